"""Django's own msgids that its Vietnamese catalogue lacks, so `makemessages` puts them in ours.

LOCALE_PATHS comes first in Django's lookup, so translating them in locale/vi fixes every form and
the admin at once. Nothing imports this module: it exists to be read by xgettext.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop, ngettext_lazy

DJANGO_MSGIDS_MISSING_IN_VI = (
    gettext_noop("- Select an option -"),  # django.db.models.fields.BLANK_CHOICE_LABEL (Django 6.1)
    gettext_noop("Null characters are not allowed."),  # django.core.validators.ProhibitNullCharactersValidator
    # django.forms.formsets, on a tampered TOTAL_FORMS (lazy: never evaluated here).
    ngettext_lazy("Please submit at most %(num)d form.", "Please submit at most %(num)d forms.", "num"),
)
