"""The one access policy: who may see or change what.

Every rule lives here; views, selectors, forms, the admin, exports and templates ask these
predicates and never re-derive a rule (templates get their flags from `site_flags`).

Roles (DESIGN.md): an **officer** belongs to a unit and works on its subtree on the site; a
**reviewer** (group "Ban CSPL&QHLĐ") works in the admin, over the whole tree when it has no unit
(the national board) or over its unit's subtree (a province's board); **leadership** (group "Lãnh
đạo") reads, within its unit's subtree or everywhere, and changes nothing; a **superuser** may do
everything. Programme-wide settings belong to the national board.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any, TypeGuard

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from unions.models import PATH_SEPARATOR

if TYPE_CHECKING:
    from django.apps.registry import Apps
    from django.contrib.auth.models import AnonymousUser, Group, Permission
    from django.db.models import Model, QuerySet

    from unions.models import Union, UnionQuerySet, User

# Group names, created by migration initiatives.0002_role_groups (and again by seed_demo); their
# permissions granted again by each migration that adds a model they use.
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
        "quartertarget": "vacd",
        "initiative": "vc",
        "reviewqueue": "vc",
        "attachment": "v",
        "author": "vac",
        "statuschange": "v",
        # Formed by the national check for copies (initiatives.likeness), never edited.
        "similargroup": "v",
    },
    "questions": {"question": "vc", "pendingquestion": "vc", "page": "vac"},
    "notifications": {"notification": "v"},
    "emulation": {"emulationcriterion": "vacd", "scoringband": "vacd", "exportjob": "v"},
    "leaderboard": {"honourrule": "vac"},
    # Decided on the site (honours.views), never in the admin: the admin shows them and their history.
    "honours": {"honourdecision": "v", "honourentry": "v"},
    # Run on the site (councils.views); the admin shows the rounds and their history.
    "councils": {"selectionround": "v", "nomination": "v"},
    # Issued (add) and revoked (change) by the board over the unit; never deleted.
    "api": {"apitoken": "vac"},
}
_ACTIONS = {"v": "view", "a": "add", "c": "change", "d": "delete"}


def grant_roles_in_migration(apps: Apps) -> None:
    """For data migrations: make the permissions now (Django makes them only after all
    migrations), then (re)grant the role groups with the historical models."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True  # type: ignore[assignment]  # create_permissions() asks only whether it is set
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    ensure_role_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def ensure_role_groups(group_model: type[Group], permission_model: type[Permission]) -> None:
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
    # No query on most pages: the names are kept on the user object for the request, and in the cache
    # for GROUPS_SECONDS (forgotten at once when the account's groups change: unions.apps).
    if not hasattr(user, "_group_names"):
        key = groups_key(user.pk)
        names = cache.get(key)
        if names is None:
            names = set(user.groups.values_list("name", flat=True))
            cache.set(key, names, GROUPS_SECONDS)
        user._group_names = names
    return name in user._group_names


GROUPS_SECONDS = 60


def groups_key(user_id: int) -> str:
    return f"account-groups:{user_id}"


def forget_groups(*, instance: object, action: str, reverse: bool, pk_set: set[int] | None, **_: object) -> None:
    """m2m_changed of User.groups: the cached group names of the accounts concerned are forgotten."""
    from django.contrib.auth.models import Group

    if not action.startswith(("post_", "pre_clear")):
        return
    if isinstance(instance, Group):  # group.user_set changed: its accounts (all of them on a clear)
        user_ids = list(instance.user_set.values_list("pk", flat=True)) if action == "pre_clear" else pk_set or ()
    else:
        user_ids = [instance.pk]  # type: ignore[attr-defined]
    cache.delete_many([groups_key(pk) for pk in user_ids])


def _active(user: User | AnonymousUser) -> TypeGuard[User]:
    """A signed-in, active account (for the type checker: an account, not AnonymousUser)."""
    return bool(user.is_authenticated and user.is_active)


def is_reviewer(user: User | AnonymousUser) -> TypeGuard[User]:
    return _active(user) and (user.is_superuser or _in_group(user, REVIEWERS_GROUP))


def is_leadership(user: User | AnonymousUser) -> TypeGuard[User]:
    return _active(user) and (user.is_superuser or _in_group(user, LEADERSHIP_GROUP))


def is_read_only(user: User | AnonymousUser) -> bool:
    """Leadership reads everywhere and writes nowhere (unless it is also on the board)."""
    return _active(user) and not user.is_superuser and is_leadership(user) and not is_reviewer(user)


# ---------------------------------------------------------------------------------------------
# Scope: the subtree an account sees and acts in.


def board_scope(user: User) -> Union | None:
    """The subtree a staff account (board or leadership) sees in the admin, e.g. a province's
    board; None for the whole country (a superuser, or a national account without a unit)."""
    return None if user.is_superuser else user.unit


def is_national(user: User | AnonymousUser) -> bool:
    """A superuser, or a board or leadership account attached to no unit."""
    return _active(user) and (
        user.is_superuser or (user.unit_id is None and (is_reviewer(user) or is_leadership(user)))
    )


def in_scope(user: User | AnonymousUser, unit: Union | None) -> bool:
    """Whether `unit` lies in the subtree the account sees (its own unit included)."""
    if not _active(user) or unit is None:
        return False
    if is_national(user):
        return True
    home = user.unit
    return home is not None and unit.is_in_subtree_of(home)


def can_act_in(user: User | AnonymousUser, unit: Union) -> bool:
    """An officer acts in its own unit's subtree; a superuser everywhere; leadership nowhere."""
    if is_read_only(user):
        return False
    if _active(user) and user.is_superuser:
        return True
    if not _active(user) or user.unit_id is None:
        return False
    home = user.unit
    return home is not None and unit.is_in_subtree_of(home)


def restrict[Rows: QuerySet[Any]](queryset: Rows, user: User | AnonymousUser, *, path: str = "unit__path") -> Rows:
    """`queryset` narrowed to the rows whose unit (reached through the `path` lookup of its
    materialised path) lies in the account's scope: all of them for a national account, none for
    an account without a unit."""
    if not _active(user):
        return queryset.none()
    if is_national(user):
        return queryset
    home = user.unit
    if home is None:
        return queryset.none()
    return queryset.filter(**{f"{path}__startswith": home.path})


def units_in_scope(user: User | AnonymousUser) -> UnionQuerySet:
    """The units an account may pick in a form (a unit filter, an initiative's unit, a target's):
    those of its subtree."""
    from unions.models import Union

    return restrict(Union.objects.all(), user, path="path")


# ---------------------------------------------------------------------------------------------
# The site.


def may_use_unit_pages(user: User | AnonymousUser) -> TypeGuard[User]:
    """The officers' pages (their units' initiatives and questions): anyone attached to a unit,
    and superusers; read-only for leadership."""
    return _active(user) and (user.is_superuser or user.unit_id is not None)


def may_write_on_site(user: User | AnonymousUser) -> TypeGuard[User]:
    """Create, edit, submit and import initiatives, remove their files, ask questions."""
    return may_use_unit_pages(user) and not is_read_only(user)


def may_ask_questions(user: User | AnonymousUser) -> bool:
    """A question is asked on behalf of the asker's own unit."""
    return may_write_on_site(user) and user.unit_id is not None


def require_unit_pages(user: User | AnonymousUser) -> None:
    """A view's guard: `may_use_unit_pages`, or 403 with the reason."""
    if not may_use_unit_pages(user):
        raise PermissionDenied(_("Your account does not belong to a union unit."))


def require_writer(user: User | AnonymousUser) -> None:
    """A view's guard for creating and changing: `may_write_on_site`, or 403 with the reason."""
    require_unit_pages(user)
    if not may_write_on_site(user):
        raise PermissionDenied(_("Your account may read these pages but not change anything."))


def dashboard_scope(user: User | AnonymousUser) -> Union | None:
    """The subtree whose dashboard a user sees: their unit's for anyone attached to a unit (an
    officer, a province's board or leadership), the whole tree for a superuser and for national
    reviewers and leadership; None for anyone else (no dashboard)."""
    if not _active(user):
        return None
    if not hasattr(user, "_dashboard_scope"):  # the menu and the page ask; one lookup per request
        from unions.models import Union

        scope = None
        if user.unit_id and not user.is_superuser:
            scope = user.unit
        elif is_national(user):
            scope = Union.objects.filter(parent=None).order_by("path").first()
        user._dashboard_scope = scope
    return user._dashboard_scope


def unit_pages_scope(user: User | AnonymousUser) -> Union | None:
    """The subtree whose initiatives the officers' pages show an account (what `restrict` keeps):
    its unit's, or the whole tree for a superuser; None for anyone without those pages."""
    return dashboard_scope(user) if may_use_unit_pages(user) else None


def export_scope(user: User | AnonymousUser) -> Union | None:
    """The subtree whose units a user may export and download: leadership and the board, within
    the subtree their dashboard shows; None for anyone else."""
    if not (is_leadership(user) or is_reviewer(user)):
        return None
    return dashboard_scope(user)


def evidence_scope(user: User | AnonymousUser) -> Union | None:
    """The subtree whose evidence a user may see (the pinned snapshots, any snapshot's dashboard
    re-rendered as it was): leadership and the board, within the subtree their dashboard shows;
    None for anyone else. Officers see their live dashboard only: evidence backs the decisions of
    those who take them."""
    if not (is_leadership(user) or is_reviewer(user)):
        return None
    return dashboard_scope(user)


def sees_as_it_was(user: User | AnonymousUser, lineage: Collection[int]) -> bool:
    """Whether a unit a snapshot saw lies in the user's evidence scope, `lineage` being its id and
    its ancestors' ids as that snapshot saw them: the tree as it was decides (a unit since moved
    into the subtree was not in it then; one moved out still was)."""
    scope = evidence_scope(user)
    return scope is not None and scope.pk in lineage


def may_rebuild_snapshot(user: User | AnonymousUser, snapshot: Any) -> bool:
    """Whether showing `snapshot` may rebuild its rows from the history (seconds of the snapshots
    queue's time and ~90 MB kept a day, nationally): a snapshot kept as evidence, for anyone who
    sees evidence; any kept snapshot for the national board. (The latest snapshots need no rebuild.)"""
    return evidence_scope(user) is not None and (bool(snapshot.pinned_reason) or may_manage_snapshots(user))


def honours_scope(user: User | AnonymousUser) -> Union | None:
    """The subtree whose honours proposals and decisions (drafts too) an account sees: leadership
    and the board, within the subtree their dashboard shows (the evidence they are decided from);
    None for anyone else. The issued decisions are public (the "Vinh danh" page)."""
    return evidence_scope(user)


def sees_honours_of(user: User | AnonymousUser, scope: Union) -> bool:
    """Whether an account sees the drafts and decisions for the units under `scope`: it lies in the
    subtree of its honours scope."""
    home = honours_scope(user)
    return home is not None and scope.is_in_subtree_of(home)


def may_decide_honours(user: User | AnonymousUser, scope: Union) -> bool:
    """Prepare, change, issue, correct or discard an honours decision for the units under `scope`
    (the root for the whole tree): leadership within its own subtree (a province's for its province), the
    national leadership and board everywhere. A province's board sees proposals and decisions but
    does not decide: its leadership does."""
    if not _active(user):
        return False
    if is_national(user):
        return is_leadership(user) or is_reviewer(user)
    return is_leadership(user) and in_scope(user, scope)


# ---------------------------------------------------------------------------------------------
# Outstanding initiatives: selection rounds and their councils (councils app). The round objects are
# passed in (duck-typed: `unit`, `members`, `status`), so this module imports none of that app.


def may_run_rounds(user: User | AnonymousUser, unit: Union) -> bool:
    """Set up a selection round of `unit` and appoint its council: the unit's own officers (not
    those of the units under it, whose initiatives it selects), the board over its subtree, and
    superusers. Leadership reads."""
    if not _active(user) or is_read_only(user):
        return False
    if user.is_superuser:
        return True
    if is_reviewer(user):
        return in_scope(user, unit)
    return user.unit_id == unit.pk


def may_sit_on_council(account: User | AnonymousUser, unit: Union) -> bool:
    """Whether an account may be appointed to the council of a round of `unit`: an active account of
    the unit's subtree, or of the board over it."""
    if not _active(account):
        return False
    if is_reviewer(account) and in_scope(account, unit):
        return True
    home = account.unit
    return home is not None and home.is_in_subtree_of(unit)


def may_nominate_to(user: User | AnonymousUser, unit: Union) -> bool:
    """Nominate initiatives to a round of `unit`: an officer (who writes on the site) of `unit`
    itself or of a unit directly under it; what it nominates lies in its own subtree (`can_act_in`)."""
    if not may_write_on_site(user) or user.unit_id is None or user.unit is None:
        return False
    return user.unit_id == unit.pk or user.unit.parent_id == unit.pk


def is_council_member(user: User | AnonymousUser, selection_round: Any) -> bool:
    """Whether the account sits on the round's council (asked once per request and round)."""
    if not _active(user):
        return False
    cache_name = "_council_rounds"
    known: dict[int, bool] = getattr(user, cache_name, None) or {}
    if selection_round.pk not in known:
        known[selection_round.pk] = selection_round.members.filter(user=user).exists()
        setattr(user, cache_name, known)
    return known[selection_round.pk]


def sees_round(user: User | AnonymousUser, selection_round: Any) -> bool:
    """A round's page, its nominations and, once it is closed, its documents: its council's members,
    and the accounts of its unit and of the levels above it (`in_scope`: the unit's officers and
    leadership, the board over it, the national accounts). A member of one round sees nothing of
    another; the units under it see their own nominations' results on their initiatives."""
    return in_scope(user, selection_round.unit) or is_council_member(user, selection_round)


def sees_scores(user: User | AnonymousUser, selection_round: Any, *, submitted_own: bool) -> bool:
    """Another member's scores on a nomination: to a member only once it has submitted its own sheet
    for that nomination; to everyone who sees the round once it is closed (the minutes)."""
    if selection_round.status == "closed":
        return sees_round(user, selection_round)
    return submitted_own and is_council_member(user, selection_round)


def may_chair(user: User | AnonymousUser, selection_round: Any) -> bool:
    """Declare or lift a conflict for another member, assign a third scorer, mark an absentee, close:
    the round's chair. (Starting the scoring is for those who manage the round: `may_manage_round`.)"""
    return _active(user) and selection_round.members.filter(user=user, role="chair").exists()


def may_manage_round(user: User | AnonymousUser, selection_round: Any) -> bool:
    """Change a round's settings, rubric and council, and forward its selected nominations: those
    who may run its unit's rounds, its chair and its secretary."""
    return may_run_rounds(user, selection_round.unit) or (
        _active(user) and selection_round.members.filter(user=user, role__in=("chair", "secretary")).exists()
    )


def sees_initiative_content(user: User | AnonymousUser, initiative: Any) -> bool:
    """Whether a council shows an initiative's content and unit to the account: always when it is
    not confidential; a confidential one only to the accounts whose scope holds its unit (as the
    officers' pages would), never to a member from another branch of the tree."""
    return not initiative.is_confidential or in_scope(user, initiative.unit)


def may_see_board_metrics(user: User | AnonymousUser) -> bool:
    return is_reviewer(user) or is_leadership(user)


def site_flags(user: User | AnonymousUser) -> dict[str, bool]:
    """What the menus and buttons offer: templates show these, never a rule of their own."""
    return {
        "unit_pages": may_use_unit_pages(user),
        "write": may_write_on_site(user),
        "ask": may_ask_questions(user),
        "dashboard": dashboard_scope(user) is not None,
        "exports": export_scope(user) is not None,
        "evidence": evidence_scope(user) is not None,
        "honours": honours_scope(user) is not None,
        "councils": may_use_unit_pages(user) or is_reviewer(user) or is_leadership(user),
        "board": may_see_board_metrics(user),
        "admin": _active(user) and user.is_staff,
    }


def unit_officer(unit: Union) -> User:
    """The access an officer of `unit` has, as an account that is no row (an integration's API token
    acts as one: api.authentication): its unit's subtree, writing on the site, in no group."""
    from unions.models import User

    officer = User(username=f"api:{unit.code}", unit=unit, is_active=True)
    officer._group_names = set()  # no group, and no query to learn it
    return officer


# ---------------------------------------------------------------------------------------------
# The board's work in the admin.


def may_change_programme_settings(user: User | AnonymousUser) -> bool:
    """Programme, phases, fields, emulation criteria, clusters and the guide pages concern the
    whole country: only the national board (a reviewer without a unit) and superusers change them."""
    return _active(user) and (user.is_superuser or (is_reviewer(user) and user.unit_id is None))


def may_manage_snapshots(user: User | AnonymousUser) -> bool:
    """The leaderboard's snapshots (how each was counted, what the nightly check found, keeping one
    as evidence) concern the whole country: the national board and superusers."""
    return may_change_programme_settings(user)


def may_hold_path(user: User | AnonymousUser, path: str) -> bool:
    """Whether the board account may create, change or move a unit to where `path` puts it: a
    scoped board only strictly under its own unit (its own unit belongs to the level above, and
    nothing moves into or out of its subtree), the national board anywhere below the root."""
    if not is_reviewer(user):
        return False
    if user.is_superuser:
        return True
    home = user.unit
    if home is None:
        return path.count(PATH_SEPARATOR) > 1  # a new root is for superusers only
    return path.startswith(home.path) and path != home.path


def may_change_unit(user: User | AnonymousUser, unit: Union) -> bool:
    return may_hold_path(user, unit.path)


def may_act_on(user: User | AnonymousUser, unit: Union | None) -> bool:
    """Change a row that belongs to `unit` (a target, a question's answer, a notification)."""
    return is_reviewer(user) and in_scope(user, unit)


def may_review(user: User | AnonymousUser, initiative: Model) -> bool:
    """Validate, return or reject an initiative: a reviewer of its subtree that did not write it."""
    return reviewable(type(initiative)._default_manager.filter(pk=initiative.pk), user).exists()


def reviewable[Rows: QuerySet[Any]](queryset: Rows, user: User | AnonymousUser) -> Rows:
    """The initiatives of `queryset` the account may review: a reviewer's, in its subtree, that it
    neither created nor edited nor submitted (`Initiative.editors`)."""
    if not is_reviewer(user):
        return queryset.none()
    return restrict(queryset, user).exclude(created_by=user).exclude(editors=user)


def may_set_target(user: User | AnonymousUser, unit: Union | None) -> bool:
    """A unit's target is assigned by the level above: a province's board sets those of the units
    under it, never its own (which would let it lower the bar it is ranked against)."""
    return unit is not None and is_reviewer(user) and (is_national(user) or may_hold_path(user, unit.path))


def target_units(user: User | AnonymousUser) -> QuerySet[Union]:
    """The units whose target the account may set (the rule above, as a queryset)."""
    units = units_in_scope(user)
    if is_national(user) or not _active(user) or user.unit_id is None:
        return units  # every unit, or none (`restrict` gives an account without a unit none)
    return units.exclude(pk=user.unit_id)


def may_resend_notifications(user: User | AnonymousUser) -> bool:
    return is_reviewer(user)
