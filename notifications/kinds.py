"""What each kind of notification says: composed by the app that owns its subject.

The outbox knows kinds by name only. An app registers, when it is ready, how to compose the mail
of its kind from the notification's object id; so the outbox sends what other apps owe without
importing any of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from unions.models import User


@dataclass(frozen=True, kw_only=True)
class Mail:
    """One e-mail to a unit's officers: templates `emails/<template>_subject.txt`, `.txt`, `.html`
    rendered with `context`, sent to the active officers of `unit_id` and to `also`."""

    template: str
    context: dict[str, Any]
    unit_id: int
    also: tuple[User | None, ...] = field(default=())


# (object id, the site's URL) → the mail, or None when there is nothing to tell any more (the
# change was rolled back or its object deleted).
Composer = Callable[..., Mail | None]
_composers: dict[str, Composer] = {}


def register(kind: str, composer: Composer) -> None:
    """Called from an app's `ready()`: how to compose the mail of `kind`."""
    _composers[kind] = composer


def compose(kind: str, *, object_id: int, site_url: str) -> Mail | None:
    try:
        composer = _composers[kind]
    except KeyError:
        raise LookupError(f"no composer registered for notifications of kind {kind!r}") from None
    return composer(object_id, site_url=site_url)
