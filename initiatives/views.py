from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from initiatives.selectors import current_program, program_progress


def home(request: HttpRequest) -> HttpResponse:
    """The programme's public home page: its name, phases and progress towards the target."""
    program = current_program()
    progress = program_progress(program=program) if program else None
    return render(request, "initiatives/home.html", {"program": program, "progress": progress})
