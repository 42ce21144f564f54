"""Leaderboard snapshots: every unit's rolled-up figures at an instant, kept as history."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from initiatives.models import Field, Program
from unions.models import EmulationCluster, Union


class LeaderboardSnapshot(models.Model):
    """Bảng xếp hạng "tính đến ngày/giờ": every unit's rolled-up figures at one instant, kept as history.

    Written only by `leaderboard.snapshots.leaderboard_snapshot`; one per programme and instant, so a
    rerun for the same instant finds it and changes nothing. A programme's snapshots only go forward
    in time: each one gets the next `seq` and points at the one before it (docs/leaderboard-storage.md §2).
    """

    class Mode(models.TextChoices):
        FULL = "full", _("full recount")
        INCREMENTAL = "incremental", _("incremental")  # counts only what changed since the previous one
        VERIFIED = "verified", _("verified by a full recount")  # incremental, then checked (and repaired)

    program = models.ForeignKey(
        Program, verbose_name=_("programme"), on_delete=models.CASCADE, related_name="snapshots"
    )
    taken_at = models.DateTimeField(_("as of"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    seconds = models.FloatField(_("time taken (s)"), default=0)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    # 1, 2, … per programme, in the order of taken_at: the versions of the history (issue 18) say
    # which snapshots see them by a range of seqs.
    seq = models.PositiveIntegerField(_("sequence number"))
    # The programme's snapshot just before this one (the one the movement arrows compare with); a
    # pruned one leaves its successor pointing at nothing rather than taking it along.
    previous = models.ForeignKey(
        "self",
        verbose_name=_("previous snapshot"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices, default=Mode.FULL)
    # Initiatives re-counted (their marks consumed) and versions written by this snapshot.
    changes = models.PositiveIntegerField(_("initiatives re-counted"), default=0)
    versions = models.PositiveIntegerField(_("versions written"), default=0)
    # A verified snapshot: the keys where the incremental count differed from the full recount (0 when
    # it was right), and the first of them with the initiatives behind them; the snapshot holds the
    # full recount's figures.
    differences = models.PositiveIntegerField(_("differences found"), default=0)
    repair_notes = models.JSONField(_("repair notes"), default=dict, blank=True)
    # Evidence (quarter and phase ends, a decision citing it): never pruned, re-rendered as it was.
    pinned_reason = models.CharField(_("kept as evidence because"), max_length=200, blank=True)
    # When its ranked rows were last rebuilt from the history to be shown (leaderboard.snapshots.materialize):
    # cooling keeps them a day from then.
    materialized_at = models.DateTimeField(_("rows rebuilt at"), null=True, blank=True)
    # Its figures are in the current rows (LeaderboardCurrent, the hot window): the live pages read
    # them there, ranked by its block scales. Otherwise they read its ranked rows (LeaderboardRow),
    # which a snapshot taken before the current rows has, and materialize rebuilds for any other.
    hot = models.BooleanField(_("in the current rows"), default=False)
    # The programme as it saw it (leaderboard.programme: name, target, dates, phases, fields, clusters),
    # for its evidence pages; empty for a snapshot taken before it was kept.
    programme = models.JSONField(_("the programme as it was"), default=dict, blank=True)

    class Meta:
        db_table = "initiatives_leaderboardsnapshot"  # its table from before the app split
        ordering = ["program", "-taken_at"]
        get_latest_by = "taken_at"
        verbose_name = _("leaderboard snapshot")
        verbose_name_plural = _("leaderboard snapshots")
        constraints = [
            models.UniqueConstraint(fields=["program", "taken_at"], name="snapshot_unique_per_instant"),
            # Two snapshots that each missed the other (a race the advisory lock leaves) cannot both commit.
            models.UniqueConstraint(fields=["program", "seq"], name="snapshot_unique_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.program.name} – {timezone.localtime(self.taken_at):%d/%m/%Y %H:%M}"


class LeaderboardRow(models.Model):
    """One unit's figures over its whole subtree in one context (a phase or the whole programme, a
    field or all fields) of a snapshot, with its rank in its level block and in its emulation cluster:
    a snapshot's ranked rows, rebuilt from the history for the evidence pages (materialize), or
    written by a snapshot taken before the current rows (LeaderboardCurrent).

    Level and cluster are copied as they were at the snapshot, so history survives a restructuring.
    Units with no submitted initiative in a context have no row (they are not ranked).
    """

    # Hundreds of thousands of rows go in per snapshot: the composite indexes below serve every
    # lookup, so the foreign keys get no index of their own, and the database checks none of them
    # (checking the snapshot's alone took 4 s at commit): only the snapshot service writes rows,
    # in the transaction that creates their snapshot, from existing units; Django cascades deletes.
    snapshot = models.ForeignKey(
        LeaderboardSnapshot, on_delete=models.CASCADE, related_name="rows", db_index=False, db_constraint=False
    )
    unit = models.ForeignKey(Union, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    # The context: a phase's id or 0 for the whole programme, a field's id or 0 for all fields. Not
    # nullable foreign keys: PostgreSQL reads an index in order only after equalities, and
    # "IS NULL" is not one, so the top 10 of a block would sort every row of the block.
    phase_key = models.PositiveIntegerField(default=0)
    field_key = models.PositiveIntegerField(default=0)
    level = models.CharField(max_length=16, choices=Union.Level.choices)
    # As it was: a cluster deleted later leaves history untouched.
    cluster = models.ForeignKey(
        EmulationCluster, null=True, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    submitted = models.PositiveIntegerField()
    valid = models.PositiveIntegerField()
    value_vnd = models.BigIntegerField()
    participating = models.PositiveIntegerField()  # grassroots units of the subtree with a submission
    target = models.PositiveIntegerField()  # the unit's chỉ tiêu in the programme, 0 when none
    rank = models.PositiveIntegerField()  # in the level block, nationally; ties share a rank
    cluster_rank = models.PositiveIntegerField(null=True)  # in the level block within its cluster

    class Meta:
        db_table = "initiatives_leaderboardrow"  # its table from before the app split
        verbose_name = _("leaderboard row")
        verbose_name_plural = _("leaderboard rows")
        indexes = [
            # A block's ranking: WHERE snapshot_id = … AND phase_key = … AND field_key = … AND level = …
            # ORDER BY rank, unit_id LIMIT 10. Within a cluster the same, with AND cluster_id = …:
            # the cluster's rows come in the same order, and a cluster holds a few % of a block, so
            # the scan reads a few hundred entries to find ten (a second index cost 2 s a snapshot).
            models.Index(
                fields=["snapshot", "phase_key", "field_key", "level", "rank", "unit"], name="lbrow_block_rank"
            ),
            # Given units' rows: a subtree's (from a list of its unit ids), the previous snapshot's,
            # a unit's own lines in several contexts, its history:
            # WHERE snapshot_id = … AND unit_id … [AND phase_key = … AND field_key = …]
            # (Deleting a unit, which cascades here, scans the table: units with initiatives are
            # protected from deletion, and only they have rows.)
            models.Index(fields=["snapshot", "unit", "phase_key", "field_key"], name="lbrow_units"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} #{self.rank}"


class LeaderboardWeek(models.Model):
    """Submissions per week and field of a large unit's subtree (the Confederation and tier-2 units)
    at a snapshot with ranked rows (rebuilt by materialize, or taken before the current rows); a hot
    snapshot's are its weekly versions (LeaderboardWeekFigure). The weekly chart of smaller subtrees
    is counted from their initiatives directly."""

    # Written by the snapshot service alone, like LeaderboardRow: no foreign key checked at commit.
    snapshot = models.ForeignKey(
        LeaderboardSnapshot, on_delete=models.CASCADE, related_name="weeks", db_index=False, db_constraint=False
    )
    unit = models.ForeignKey(Union, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    week = models.DateField()  # the Monday starting the week, local time
    # null: initiatives with no field; the week's total is the sum over the week's rows
    field = models.ForeignKey(Field, null=True, on_delete=models.CASCADE, related_name="+", db_index=False)
    submitted = models.PositiveIntegerField()

    class Meta:
        db_table = "initiatives_leaderboardweek"  # its table from before the app split
        verbose_name = _("weekly submissions")
        verbose_name_plural = _("weekly submissions")
        # The weekly chart: WHERE snapshot_id = … AND unit_id = … ORDER BY week
        indexes = [models.Index(fields=["snapshot", "unit", "week"], name="lbweek_series")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.week:%d/%m/%Y}: {self.submitted}"


# The last_seq of a version still open: seen by every snapshot from its first_seq on.
OPEN = 2147483647


class LeaderboardState(models.Model):
    """The snapshot the open versions and the mirror of a programme stand for: an incremental
    snapshot follows it only, anything else (no state, a gap) is a full recount."""

    program = models.OneToOneField(Program, primary_key=True, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("leaderboard history state")
        verbose_name_plural = _("leaderboard history states")

    # The history (docs/leaderboard-storage.md §2.2): each table keeps one version of a key for as long as
    # its values stay the same, seen by the snapshots whose seq lies in [first_seq, last_seq]. Written by
    # leaderboard.history alone, in raw SQL; no foreign key is checked (units are deleted, history stays).

    def __str__(self) -> str:
        return f"{self.program_id}: {self.seq}"


class LeaderboardFigure(models.Model):
    """A unit's figures over its subtree in one context, while they stay the same: the contexts of
    LeaderboardRow (phase × field, 0 = all). No rank: ranks are derived. A calendar quarter's
    figures are counted from the mirror when asked (history.quarter_figures)."""

    pk = models.CompositePrimaryKey("program_id", "unit_id", "phase_key", "field_key", "first_seq")
    program_id = models.IntegerField()
    unit_id = models.IntegerField()
    phase_key = models.IntegerField()
    field_key = models.IntegerField()
    first_seq = models.IntegerField()
    last_seq = models.IntegerField()
    submitted = models.IntegerField()
    valid = models.IntegerField()
    participating = models.IntegerField()
    value_vnd = models.BigIntegerField()  # after the 4-byte columns: no padding before it

    class Meta:
        verbose_name = _("leaderboard figure version")
        verbose_name_plural = _("leaderboard figure versions")

    def __str__(self) -> str:
        context = f"({self.phase_key}, {self.field_key})"
        return f"{self.unit_id} {context} [{self.first_seq}, {self.last_seq}]"


class LeaderboardWeekFigure(models.Model):
    """Submissions in one week (its Monday, local time) and field (0 = none) of the Confederation's
    and each tier-2 unit's subtree, while the count stays the same."""

    pk = models.CompositePrimaryKey("program_id", "unit_id", "week", "field_key", "first_seq")
    program_id = models.IntegerField()
    unit_id = models.IntegerField()
    week = models.DateField()
    field_key = models.IntegerField()
    first_seq = models.IntegerField()
    last_seq = models.IntegerField()
    submitted = models.IntegerField()

    class Meta:
        verbose_name = _("weekly submissions version")
        verbose_name_plural = _("weekly submissions versions")

    def __str__(self) -> str:
        return f"{self.unit_id} {self.week} [{self.first_seq}, {self.last_seq}]"


class LeaderboardUnitVersion(models.Model):
    """A unit as the snapshots of [first_seq, last_seq] saw it: its name, place in the tree, level,
    cluster and target in the programme (so evidence shows them as they were)."""

    pk = models.CompositePrimaryKey("program_id", "unit_id", "first_seq")
    program_id = models.IntegerField()
    unit_id = models.IntegerField()
    first_seq = models.IntegerField()
    last_seq = models.IntegerField()
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=255)
    short_name = models.CharField(max_length=100, blank=True)
    parent_id = models.IntegerField(null=True)
    level = models.CharField(max_length=16, choices=Union.Level.choices)
    cluster_id = models.IntegerField(null=True)
    depth = models.IntegerField()
    target = models.IntegerField()

    class Meta:
        verbose_name = _("unit as seen by snapshots")
        verbose_name_plural = _("units as seen by snapshots")

    def __str__(self) -> str:
        return f"{self.code} [{self.first_seq}, {self.last_seq}]"


class LeaderboardCounted(models.Model):
    """The mirror: what the snapshots of [first_seq, last_seq] counted of one initiative (where, in
    which phase, field, week and quarter, whether valid and its value). An incremental snapshot
    takes an initiative's old contribution from here; evidence counts from here what the pages
    count live."""

    # With the programme: seqs are numbered per programme, and an initiative moved to another
    # programme is counted by each in turn.
    pk = models.CompositePrimaryKey("program_id", "initiative_id", "first_seq")
    program_id = models.IntegerField()
    initiative_id = models.IntegerField()
    first_seq = models.IntegerField()
    last_seq = models.IntegerField()
    unit_id = models.IntegerField()
    phase_key = models.IntegerField()  # 0: none
    field_key = models.IntegerField()  # 0: none
    week = models.DateField()
    quarter_key = models.IntegerField()
    valid = models.IntegerField()  # 1 or 0
    value_vnd = models.BigIntegerField()  # counted value: 0 unless valid

    class Meta:
        verbose_name = _("counted initiative version")
        verbose_name_plural = _("counted initiative versions")
        indexes = [
            # A unit's open rows, for an incremental snapshot: only the open ones are indexed.
            models.Index(
                fields=["program_id", "unit_id"], name="lbcounted_open_by_unit", condition=models.Q(last_seq=OPEN)
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.initiative_id} [{self.first_seq}, {self.last_seq}]"


class LeaderboardCurrent(models.Model):
    """A unit's figures over its subtree in one context (as LeaderboardRow), with its level, cluster
    and target then, as the latest few snapshots (the hot window) see them: one version per change,
    seen by the snapshots whose seq lies in [first_seq, last_seq]. Each snapshot writes only the
    keys whose figures or unit changed (about 19,000 of 360,000 in an hour nationally) instead of a
    ranked copy of every row, so no rank is stored (a unit's count moving changes the ranks of
    thousands): a row's rank is read from its snapshot's block scale (LeaderboardBlockScale).
    Versions no hot snapshot sees are deleted as snapshots cool (leaderboard.snapshots._cool)."""

    pk = models.CompositePrimaryKey("program_id", "unit", "phase_key", "field_key", "first_seq")
    program_id = models.IntegerField()
    # Written by the snapshot service alone, like LeaderboardRow: no foreign key checked.
    unit = models.ForeignKey(Union, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False)
    phase_key = models.IntegerField()  # 0: the whole programme
    field_key = models.IntegerField()  # 0: all fields
    first_seq = models.IntegerField()
    last_seq = models.IntegerField()
    level = models.CharField(max_length=16, choices=Union.Level.choices)
    cluster = models.ForeignKey(
        EmulationCluster, null=True, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    submitted = models.IntegerField()
    valid = models.IntegerField()
    participating = models.IntegerField()
    target = models.IntegerField()
    value_vnd = models.BigIntegerField()

    class Meta:
        verbose_name = _("current leaderboard row")
        verbose_name_plural = _("current leaderboard rows")
        indexes = [
            # A block's ranking, best first: WHERE program_id = … AND phase_key = … AND field_key = …
            # AND level = … ORDER BY submitted DESC (read backwards), the seq checked on each row
            # (at most a few versions of a key are kept). Given units' rows go by the primary key.
            models.Index(
                fields=["program_id", "phase_key", "field_key", "level", "submitted", "unit"], name="lbcurrent_block"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} ({self.phase_key}, {self.field_key}) [{self.first_seq}, {self.last_seq}]"


class LeaderboardBlockScale(models.Model):
    """A hot snapshot's rank for each count of each block: (phase, field, level), nationally
    (cluster_key 0) and within each emulation cluster (its id). A unit ranks one more than the
    units of its block with more submissions, so its rank is one lookup of its count here. Written
    with the snapshot, deleted when it cools (its ranked rows, rebuilt, hold their ranks)."""

    pk = models.CompositePrimaryKey("snapshot", "phase_key", "field_key", "level", "cluster_key", "submitted")
    # Tens of thousands of rows a snapshot, written by the snapshot service alone: no foreign key
    # checked at commit (Django cascades a snapshot's deletion).
    snapshot = models.ForeignKey(
        LeaderboardSnapshot, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    phase_key = models.IntegerField()
    field_key = models.IntegerField()
    level = models.CharField(max_length=16, choices=Union.Level.choices)
    cluster_key = models.IntegerField()  # 0: the whole block
    submitted = models.IntegerField()
    rank = models.IntegerField()

    class Meta:
        verbose_name = _("block rank scale")
        verbose_name_plural = _("block rank scales")

    def __str__(self) -> str:
        return f"({self.phase_key}, {self.field_key}) {self.level} {self.cluster_key} {self.submitted}: #{self.rank}"


class LeaderboardScale(models.Model):
    """A snapshot's national rank for each count in a level's block of the whole programme (all
    fields): a unit's rank at any kept snapshot is read from its figures and this, so ranks need no
    storing per unit."""

    pk = models.CompositePrimaryKey("snapshot", "level", "submitted")
    snapshot = models.ForeignKey(LeaderboardSnapshot, on_delete=models.CASCADE, related_name="+", db_index=False)
    level = models.CharField(max_length=16, choices=Union.Level.choices)
    submitted = models.IntegerField()
    rank = models.IntegerField()

    class Meta:
        verbose_name = _("rank scale")
        verbose_name_plural = _("rank scales")

    def __str__(self) -> str:
        return f"{self.level} {self.submitted}: #{self.rank}"


class HonourRule(models.Model):
    """How a programme honours the leading units of a period (issue 19; the Confederation's guidance
    of 2022): in each emulation cluster, and in each level block, the unit(s) with the most
    initiatives of the period, provided their count is at least `margin` above their own target
    for the period ("above its target": 1). Without a rule a programme uses these defaults."""

    class Count(models.TextChoices):
        SUBMITTED = "submitted", _("initiatives submitted")
        VALID = "valid", _("initiatives found valid")

    program = models.OneToOneField(
        Program, verbose_name=_("programme"), on_delete=models.CASCADE, related_name="honour_rule"
    )
    count = models.CharField(_("count by"), max_length=16, choices=Count.choices, default=Count.SUBMITTED)
    margin = models.PositiveIntegerField(_("at least this many above the target"), default=1)

    class Meta:
        verbose_name = _("honours rule")
        verbose_name_plural = _("honours rules")

    def __str__(self) -> str:
        return gettext("%(program)s: %(count)s, at least %(margin)s above the target") % {
            "program": self.program,
            "count": self.get_count_display(),
            "margin": self.margin,
        }
