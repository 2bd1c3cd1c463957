"""Readers never touch the file a run writes: each run publishes a read copy, atomically.

DuckDB lets one process write a database file and then refuses every other process, readers
included. So a dashboard, a notebook, a report or a BI tool left open would
either block the next scheduled run or be broken by it. Instead:

- `atlassian-posture run` (and the demo) write `warehouse/<name>.duckdb` under the run lock, then
  `Warehouse.publish` (warehouse.py) copies it to `warehouse/published/<name>.duckdb`: a checkpointed copy written beside the
  target and swapped in with one `os.replace`, so a reader sees the old copy or the new one, never a
  half-written file. A reader holding the old copy open keeps reading it (POSIX keeps the inode);
  its next connection sees the new one.
- Readers (`connect`, `read_sql`) open the published copy read-only, one short-lived connection per
  question, so nothing a reader does can hold a lock the writer needs.

The copy keeps the file's name, so the catalog name inside views (dbt's staging views say
`"<name>"."raw"...`) still resolves in the copy.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from atlassian_posture.warehouse import DEFAULT_WAREHOUSE, DEMO_WAREHOUSE, ENV_WAREHOUSE, Warehouse


class WarehouseUnavailable(Exception):
    """No readable warehouse: the message says which file was looked for and what to run."""


def published_path(warehouse: Path | str) -> Path:
    return Warehouse.of(warehouse).published_path


def default_warehouse() -> Path:
    """$ATLASSIAN_POSTURE_WAREHOUSE, else the scheduled warehouse if it was ever published, else the demo's."""
    if os.environ.get(ENV_WAREHOUSE):
        return Path(os.environ[ENV_WAREHOUSE])
    if published_path(DEFAULT_WAREHOUSE).exists() or not published_path(DEMO_WAREHOUSE).exists():
        return DEFAULT_WAREHOUSE
    return DEMO_WAREHOUSE


def readable_path(warehouse: Path | str | None = None) -> Path:
    """The file readers open for `warehouse`: its published copy (a published file given directly is used as is)."""
    warehouse = Path(warehouse) if warehouse else default_warehouse()
    candidate = warehouse if warehouse.parent.name == "published" else published_path(warehouse)
    if candidate.exists():
        return candidate
    raise WarehouseUnavailable(
        f"no published warehouse at {candidate}: run `atlassian-posture demo` or `atlassian-posture run"
        f" --warehouse {warehouse}` first (a run publishes it for readers when it finishes)")


@contextmanager
def connect(warehouse: Path | str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection to the published copy; close it promptly."""
    con = duckdb.connect(str(readable_path(warehouse)), read_only=True)
    try:
        yield con
    finally:
        con.close()


def read_sql(sql: str, warehouse: Path | str | None = None, params: list | None = None) -> pd.DataFrame:
    """Run one read-only query on the published copy and return it as a DataFrame."""
    with connect(warehouse) as con:
        relation = con.sql(sql, params=params or None)
        frame = relation.df()
        # SUM of integers is HUGEINT, which pandas turns into floats ("0.0 failing"): counts stay integers
        for name, kind in zip(relation.columns, relation.types, strict=True):
            if str(kind) == "HUGEINT" or (str(kind).startswith("DECIMAL") and str(kind).endswith(",0)")):
                frame[name] = frame[name].astype("Int64")
        return frame


def from_cli_args(args: dict) -> Path:
    """The readable file for a notebook or app started with `-- --warehouse PATH` (else the default)."""
    return readable_path(args.get("warehouse") or None)
