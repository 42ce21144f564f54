"""What each kind of export job builds: the worker (`workbook.run_job`) claims, follows, names and
stores every job the same way, and asks the job's kind for the file itself.

A kind registers, from `EmulationConfig.ready()`, how to write its file and name it and how its
progress reads; the jobs' life cycle, limits, retries, takeover after a killed worker and cleanup
are shared (emulation.services, emulation.workbook), whatever the kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulation.models import ExportJob

# (rows written, rows in all): called every so many rows; raises workbook.ClaimLost to stop.
Progress = Callable[[int, int], None]


class BuildRefused(Exception):
    """The job may not be built as asked any more (the asker's access changed, the list grew past
    the limit): the job fails with this reason, in the asker's language, and no file."""


@dataclass(frozen=True, kw_only=True)
class ExportKind:
    # Write the whole file at `path` (a temporary name, renamed by the caller when complete);
    # returns the rows written.
    write: Callable[[ExportJob, Path, Progress], int]
    # The name the file downloads under (and ends its stored name).
    file_name: Callable[[ExportJob], str]
    # What the progress reads: "Running: 2,000 of 31,000 units" ((done, total) → text) and "Done: …"
    # ((rows, seconds as text) → text).
    running: Callable[[int, int], str]
    done: Callable[[int, str], str]
    # What `write` and `file_name` read of the job, loaded with it in one query.
    related: tuple[str, ...] = ()


_kinds: dict[str, ExportKind] = {}


def register(name: str, kind: ExportKind) -> None:
    """Called from an app's `ready()`: how jobs of `name` (an `ExportJob.Kind`) are built."""
    _kinds[name] = kind


def kind_of(name: str) -> ExportKind:
    try:
        return _kinds[name]
    except KeyError:
        raise LookupError(f"no export kind registered under {name!r}") from None
