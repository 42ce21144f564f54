"""Who may see or change what: predicates used by views, templates and the admin alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from unions.models import Union, User

# Group names, created by migration initiatives.0002_role_groups (and again by seed_demo).
REVIEWERS_GROUP = "Ban CSPL&QHLĐ"
LEADERSHIP_GROUP = "Lãnh đạo"

# Reviewers run the programme in the admin (v=view, a=add, c=change, d=delete);
# the leadership reads everything and changes nothing.
REVIEWER_PERMISSIONS = {
    "unions": {"union": "vac", "emulationcluster": "vac"},
    "initiatives": {
        "program": "vac",
        "phase": "vac",
        "field": "vac",
        "target": "vacd",
        "initiative": "vc",
        "reviewqueue": "vc",
        "attachment": "v",
        "question": "vc",
        "pendingquestion": "vc",
        "page": "vac",
        "notification": "v",
        "author": "vac",
        "statuschange": "v",
        "emulationcriterion": "vacd",
        "scoringband": "vacd",
        "exportjob": "v",
    },
}
_ACTIONS = {"v": "view", "a": "add", "c": "change", "d": "delete"}


def grant_roles_in_migration(apps: object) -> None:
    """For data migrations: make the permissions now (Django makes them only after all
    migrations), then (re)grant the role groups with the historical models."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    ensure_role_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def ensure_role_groups(group_model: type, permission_model: type) -> None:
    """Create the reviewer and leadership groups with their permissions; safe to run again.

    Takes the model classes so that the data migration can pass its historical models.
    """
    reviewers, _ = group_model.objects.get_or_create(name=REVIEWERS_GROUP)
    leadership, _ = group_model.objects.get_or_create(name=LEADERSHIP_GROUP)
    for app_label, models in REVIEWER_PERMISSIONS.items():
        for model, letters in models.items():
            codenames = [f"{_ACTIONS[letter]}_{model}" for letter in letters]
            perms = permission_model.objects.filter(content_type__app_label=app_label, codename__in=codenames)
            reviewers.permissions.add(*perms)
            leadership.permissions.add(*perms.filter(codename__startswith="view_"))


def _in_group(user: User | AnonymousUser, name: str) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    # One query per request at most: the names are cached on the user object.
    if not hasattr(user, "_group_names"):
        user._group_names = set(user.groups.values_list("name", flat=True))
    return name in user._group_names


def can_act_in(user: User | AnonymousUser, unit: Union) -> bool:
    """An officer acts in its own unit's subtree; a superuser everywhere."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    home = user.unit
    return home is not None and unit.is_in_subtree_of(home)


def board_scope(user: User) -> Union | None:
    """The subtree a board member works in (e.g. a province's board); None for the whole country
    (a superuser, or a national board member without a unit)."""
    return None if user.is_superuser else user.unit


def is_reviewer(user: User | AnonymousUser) -> bool:
    return user.is_authenticated and (user.is_superuser or _in_group(user, REVIEWERS_GROUP))


def is_leadership(user: User | AnonymousUser) -> bool:
    return user.is_authenticated and (user.is_superuser or _in_group(user, LEADERSHIP_GROUP))
