"""The Vietnamese collation on the embedded SQLite database.

PostgreSQL has ICU's "vi-x-icu"; SQLite has no ICU, so every SQLite connection gets a collation
of the same name built on `sangkien.text.vietnamese_sort_key`: the columns declared with
`db_collation=VIETNAMESE_DB_COLLATION` and the `Collate(..., VIETNAMESE_COLLATION)` expressions then
sort alike on both (`make run` uses SQLite).
"""

from __future__ import annotations

from typing import Any

from sangkien.text import VIETNAMESE_COLLATION, vietnamese_sort_key

# What a column's `db_collation` names: quoted, since Django's SQLite schema editor writes the name
# as given (`COLLATE vi-x-icu` is a syntax error there) while quote_name() leaves a quoted name be.
VIETNAMESE_DB_COLLATION = f'"{VIETNAMESE_COLLATION}"'


def compare_vietnamese(a: str, b: str) -> int:
    """SQLite's collation callback: negative, zero or positive as `a` sorts before, with or after `b`."""
    key_a, key_b = vietnamese_sort_key(a), vietnamese_sort_key(b)
    return (key_a > key_b) - (key_a < key_b)


def register_vietnamese_collation(sender: Any, connection: Any, **kwargs: Any) -> None:
    """`connection_created` receiver: adds the collation to a new SQLite connection."""
    if connection.vendor == "sqlite":
        connection.connection.create_collation(VIETNAMESE_COLLATION, compare_vietnamese)
