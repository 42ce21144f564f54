from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sangkien.cleaning import CleanTextModel, refuse_look_alike
from sangkien.collation import VIETNAMESE_DB_COLLATION
from sangkien.text import fold

# Codes are the segments of the materialised path, so they may not contain its separator.
PATH_SEPARATOR = "/"
CODE_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z._-]*$"
code_validator = RegexValidator(
    CODE_PATTERN,
    _("A unit code may contain only letters, digits, '.', '_' and '-', starting with a letter or digit."),
)


class UnionQuerySet(models.QuerySet["Union"]):
    """Reusable filters over the union tree."""

    def subtree(self, unit: Union) -> UnionQuerySet:
        """`unit` and everything under it: one range scan on the path index."""
        return self.filter(path__startswith=unit.path)

    def descendants(self, unit: Union) -> UnionQuerySet:
        return self.subtree(unit).exclude(pk=unit.pk)

    def ancestors(self, unit: Union, *, include_self: bool = False) -> UnionQuerySet:
        """Every unit above `unit`, root first: a lookup of the codes its path already names."""
        codes = unit.path_codes if include_self else unit.path_codes[:-1]
        return self.filter(code__in=codes).order_by("depth")

    def active(self) -> UnionQuerySet:
        return self.filter(is_active=True)

    def search(self, term: str) -> UnionQuerySet:
        """Diacritic-insensitive search on code, name and short name (trigram index on PostgreSQL)."""
        folded = fold(term)
        if not folded:
            return self
        return self.filter(search_text__contains=folded)


class EmulationCluster(CleanTextModel, models.Model):
    """Cụm / khối thi đua: units compared with each other."""

    name = models.CharField(_("name"), max_length=200, unique=True, db_collation=VIETNAMESE_DB_COLLATION)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("emulation cluster")
        verbose_name_plural = _("emulation clusters")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        refuse_look_alike(self, "name")  # the imports match names by their folded key


class Union(CleanTextModel, models.Model):
    """A unit of the trade-union tree: Tổng Liên đoàn → cấp tỉnh/ngành → cấp trên cơ sở → cơ sở.

    The tree is a hand-made materialised path of unit codes ("TLD/CTVN/CTVN-THEP/"): subtree is
    one `LIKE 'prefix%'` range scan on the path index, ancestors are the codes the path names.
    """

    class Level(models.TextChoices):
        CONFEDERATION = "confederation", _("Confederation")
        TIER2 = "tier2", _("Provincial federation / sector union")
        SUPERIOR = "superior", _("Superior-level union")
        GRASSROOTS = "grassroots", _("Grassroots union")

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=255, db_collation=VIETNAMESE_DB_COLLATION)
    short_name = models.CharField(_("short name"), max_length=100, blank=True)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Derived from the parent chain by unions.services; never edited by hand.
    # Django adds a varchar_pattern_ops index on PostgreSQL: it serves `path LIKE 'prefix%'`.
    path = models.CharField(_("path"), max_length=400, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), default=1, editable=False)
    member_count = models.PositiveIntegerField(_("member count"), default=0)
    cluster = models.ForeignKey(
        EmulationCluster,
        verbose_name=_("emulation cluster"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="units",
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Folded "code name short name" for diacritic-free search; a pg_trgm index serves LIKE '%x%'
    # (migration 0003, PostgreSQL only).
    search_text = models.CharField(max_length=500, blank=True, editable=False)

    objects = UnionQuerySet.as_manager()

    # The ids of the subtree, which the dashboard keeps on the instance for its request (not a column).
    _subtree_ids: list[int]

    class Meta:
        ordering = ["path"]
        verbose_name = _("union unit")
        verbose_name_plural = _("union units")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(parent__isnull=True) | ~models.Q(parent=models.F("pk")),
                name="union_not_own_parent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # search_text is a pure function of the row's own columns, kept beside them so the admin
        # and any direct save stay searchable; bulk writers call refresh_search_text() themselves.
        self.refresh_search_text()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("admin:unions_union_change", args=[self.pk])

    def refresh_search_text(self) -> None:
        self.search_text = fold(f"{self.code} {self.name} {self.short_name}")

    @property
    def path_codes(self) -> list[str]:
        return [code for code in self.path.split(PATH_SEPARATOR) if code]

    def is_in_subtree_of(self, other: Union) -> bool:
        return self.path.startswith(other.path)


class User(CleanTextModel, AbstractUser):
    """A portal account. An officer belongs to one unit and acts in its subtree."""

    unit = models.ForeignKey(
        Union,
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="officers",
        help_text=_("The union unit this officer belongs to; they act in its whole subtree."),
    )

    # Per-request caches that unions.permissions keeps on the instance (not columns).
    _group_names: set[str]
    _dashboard_scope: Union | None

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        # django-stubs types AbstractUser.Meta's names as str; Django takes lazy strings there too.
        verbose_name = _("user")  # type: ignore[assignment]
        verbose_name_plural = _("users")  # type: ignore[assignment]

    def get_full_name(self) -> str:
        """Vietnamese order: family name (last_name, "họ") before given name (first_name, "tên")."""
        return " ".join(part for part in (self.last_name, self.first_name) if part)
