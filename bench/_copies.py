"""What the national-scale benches share: their timings and yardstick, and the throwaway copy of the
scale database they write into (`CREATE DATABASE … TEMPLATE`), dropped at the end."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

from django.db import DatabaseError, connection


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def machine_speed() -> float:
    """Seconds for 20 million additions in pure Python: machines of the same kind differ by 2× or
    more, so the figures are printed beside this yardstick."""
    started = time.perf_counter()
    total = 0
    for i in range(20_000_000):
        total += i
    return time.perf_counter() - started


def load() -> str:
    """The machine's load: the figures are worth what the machine's share was (2 cores here)."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def copy_database(source: str, copy: str) -> float:
    """Copy the database `source` into a new database `copy`; returns the seconds it took. FILE_COPY
    copies the files after a checkpoint instead of writing every page into the WAL (PostgreSQL 15's
    default, WAL_LOG), which is the faster way for a database of a few GB."""
    connection.close()  # a template must have no connection
    quote = connection.ops.quote_name
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [copy])
        if cursor.fetchone():
            sys.exit(f"The database {copy} exists already (a bench that was killed?): drop it or pass --copy.")
        started = time.perf_counter()
        try:
            cursor.execute(f"CREATE DATABASE {quote(copy)} TEMPLATE {quote(source)} STRATEGY FILE_COPY")
        except DatabaseError as error:  # most often: another session is connected to the source
            sys.exit(f"Could not copy {source} into {copy}: {error}")
        return time.perf_counter() - started


def drop_database(name: str) -> None:
    connection.close()
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)}")


def use(name: str) -> None:
    """Point Django's connection at the database `name` (its next query connects there)."""
    connection.close()
    connection.settings_dict["NAME"] = name
