"""Files the portal writes for download (workbooks, decisions' documents): whole or not at all."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

PARTIAL_SUFFIX = ".partial"


def write_whole[Result](out: Path, write: Callable[[Path], Result]) -> Result:
    """`write(path)` at a temporary name (".NAME.partial" beside `out`), renamed to `out` when it
    returns: a half-written file is never there under its own name. Returns what `write` did."""
    partial = out.with_name(f".{out.name}{PARTIAL_SUFFIX}")
    try:
        result = write(partial)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return result
