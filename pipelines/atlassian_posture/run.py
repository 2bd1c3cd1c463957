"""One run: lock the warehouse, extract and load, transform (dbt build), publish for readers.

The CLI's `run`, the demo and Dagster all go through these steps, so the guarantees are written
once: the lock is held from the first request to the published copy; a failed transform leaves this
run's raw tables loaded and the last published copy as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from atlassian_posture.connector.runner import RunResult, extract
from atlassian_posture.transform import PROJECT_DIR, TransformResult, build
from atlassian_posture.warehouse import Warehouse


@dataclass
class RunOutcome:
    extracted: RunResult
    transformed: TransformResult
    published: Path | str
    duration_s: float


def run(orgs: dict, credentials: dict, warehouse: Warehouse | Path | str, *, project_dir: Path = PROJECT_DIR,
        lock_wait_s: float = 0.0, pipelines_dir: Path | None = None, progress: str | None = None,
        on_extracted: Callable[[RunResult], None] | None = None,
        on_transform_progress: Callable[[str], None] | None = None,
        on_progress: Callable[[dict], None] | None = None,
        transport: httpx.BaseTransport | None = None, dbt_tests: bool = True, full: bool = False,
        sweep_days: float | None = None) -> RunOutcome:
    """Extract every configured tenant, build the marts and publish them, under one lock.

    Raises RunFailed (extract, lock, configuration) or TransformFailed (exit code 5). `on_extracted`
    sees the extraction's result before the transform starts (the CLI reports coverage there)."""
    warehouse = Warehouse.of(warehouse)
    started = time.monotonic()
    with warehouse.lock(lock_wait_s):
        extracted = extract(orgs, credentials, warehouse, pipelines_dir=pipelines_dir, progress=progress,
                            transport=transport, locked=True, on_progress=on_progress, full=full,
                            **({"sweep_days": sweep_days} if sweep_days is not None else {}))
        if on_extracted:
            on_extracted(extracted)
        transformed = build(warehouse, project_dir, progress=on_transform_progress, tests=dbt_tests)
        published = warehouse.publish()
    return RunOutcome(extracted, transformed, published, time.monotonic() - started)
