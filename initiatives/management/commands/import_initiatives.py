from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from initiatives.imports import import_initiatives
from initiatives.selectors import current_program
from sangkien.spreadsheets import SpreadsheetError, import_failed
from unions.models import User
from unions.permissions import may_use_unit_pages, may_write_on_site


class Command(BaseCommand):
    help = (
        "Import initiatives from the officers' template or their own sheet (.xlsx, .xlsm, .xls or .ods), "
        "with a user's rights (their units only). "
        "Nothing is imported if any row is wrong."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", required=True, help="Username whose units the initiatives may belong to.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(_("%(path)s: no such file.") % {"path": path})
        user = User.objects.select_related("unit").filter(username=options["user"], is_active=True).first()
        if user is None or not may_use_unit_pages(user):
            raise CommandError(
                _("There is no active officer with the username “%(name)s”.") % {"name": options["user"]}
            )
        if not may_write_on_site(user):  # the rule of the site's import page: leadership only reads
            raise CommandError(
                _("The account “%(name)s” may read initiatives but not import them.") % {"name": user.username}
            )
        program = current_program()
        if program is None:
            raise CommandError(_("No programme is open at the moment."))
        started = time.perf_counter()
        try:
            result = import_initiatives(path, user=user, program=program)
        except SpreadsheetError as error:
            raise import_failed(self.stderr, error) from None
        for line in result.layout.summary():
            self.stdout.write(line)
        self.stdout.write(
            self.style.SUCCESS(
                _("Imported %(count)s initiatives in %(seconds).1f s.")
                % {"count": result.created, "seconds": time.perf_counter() - started}
            )
        )
