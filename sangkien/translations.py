"""Django's and django-axes' msgids that their Vietnamese catalogues lack, so `makemessages` puts them in ours.

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

# django-axes ships no Vietnamese: the labels its admin shows to the superuser who unlocks a login.
AXES_MSGIDS = (
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("Username"),
    gettext_noop("IP Address"),
    gettext_noop("User Agent"),
    gettext_noop("HTTP Accept"),
    gettext_noop("Path"),
    gettext_noop("Attempt Time"),
    gettext_noop("Logout Time"),
    gettext_noop("GET Data"),
    gettext_noop("POST Data"),
    gettext_noop("Failed Logins"),
    gettext_noop("Access lock out"),
    gettext_noop("Locked Out"),
    gettext_noop("Attempt Remaining"),
    gettext_noop("Form Data"),
    gettext_noop("Meta Data"),
    gettext_noop("Not set"),
    gettext_noop("Clean up expired attempts"),
)
