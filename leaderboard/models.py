"""Leaderboard snapshots: every unit's rolled-up figures at an instant, kept as history."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
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
        INCREMENTAL = "incremental", _("incremental")  # counts only what changed (issue 18, not yet written)

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
    field or all fields) of a snapshot, with its rank in its level block and in its emulation cluster.

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
    at a snapshot; the weekly chart of smaller subtrees is counted from their initiatives directly."""

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
