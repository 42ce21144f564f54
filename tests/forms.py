"""Posting the portal's forms as a browser does."""

from __future__ import annotations

import re

from django.forms import MultiWidget
from django.test import Client
from django.urls import reverse

ONCE = re.compile(r'name="once" value="([^"]+)"')


def once_field(client: Client, url: str) -> dict[str, str]:
    """The one-time token of the creating form at `url` (initiatives.once), as the page gives it."""
    match = ONCE.search(client.get(url).content.decode())
    assert match, f"{url} has no one-time token"
    return {"once": match.group(1)}


def post_form(client: Client, name: str, data: dict, **kwargs: object) -> object:
    """POST the creating form of URL `name` as a browser does: with the token its page carries."""
    url = reverse(name)
    return client.post(url, {**data, **once_field(client, url)}, **kwargs)


def admin_change_data(client: Client, url: str) -> dict[str, object]:
    """The data an admin change form at `url` posts when saved untouched, inlines included."""
    response = client.get(url)
    assert response.status_code == 200, url
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data: dict[str, object] = {}
    for form in forms:
        for bound in form:
            value = bound.value()
            if value is None or value is False:
                continue
            widget = bound.field.widget
            if isinstance(widget, MultiWidget):  # a date and a time as two inputs (the admin's datetimes)
                parts = value if isinstance(value, list) else widget.decompress(value)
                for suffix, part, inner in zip(widget.widgets_names, parts, widget.widgets, strict=True):
                    data[bound.html_name + suffix] = inner.format_value(part)
                continue
            data[bound.html_name] = "on" if value is True else value
    return data
