"""The transform step of `atlassian-posture run`: `dbt build` of the dbt project over the warehouse.

dbt runs in-process (dbt's documented `dbtRunner`), against a profile generated for the
warehouse file so the project carries no machine-specific path. The lock taken by the run
is held by the caller for the whole extract + transform, so nothing else writes meanwhile.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from atlassian_posture.errors import TransformFailed
from atlassian_posture.warehouse import PG_PASSWORD_ENV, Warehouse


def _project_dir() -> Path:
    """The dbt project: shipped inside the package in a wheel, the repository's `dbt_project/` in a checkout."""
    packaged = Path(__file__).resolve().parent / "dbt_project"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "dbt_project"


PROJECT_DIR = _project_dir()
PROFILE_NAME = "atlassian_posture"


@dataclass
class TransformResult:
    models: int
    tests: int
    duration_s: float


BUILD_THREADS = 4


def profile_yaml(warehouse: Warehouse | Path | str, threads: int = 2) -> str:
    """A dbt profile for the warehouse: a DuckDB file, or a PostgreSQL URL (dbt-postgres)."""
    warehouse = Warehouse.of(warehouse)
    if warehouse.is_server:
        url = urlsplit(str(warehouse.location))
        return (
            f"{PROFILE_NAME}:\n"
            f"  target: warehouse\n"
            f"  outputs:\n"
            f"    warehouse:\n"
            f"      type: postgres\n"
            f"      host: '{url.hostname}'\n"
            f"      port: {url.port or 5432}\n"
            f"      user: '{unquote(url.username or '')}'\n"
            f"      password: \"{{{{ env_var('{PG_PASSWORD_ENV}', '') }}}}\"\n"
            f"      dbname: '{url.path.lstrip('/')}'\n"
            f"      schema: public\n"
            f"      threads: {threads}\n"
        )
    return (
        f"{PROFILE_NAME}:\n"
        f"  target: warehouse\n"
        f"  outputs:\n"
        f"    warehouse:\n"
        f"      type: duckdb\n"
        f"      path: '{warehouse.path.resolve()}'\n"
        f"      threads: {threads}\n"
        f"      settings:\n"
        f"        TimeZone: UTC\n"
    )


def _progress_callback(progress: Callable[[str], None], every: float = 0.2) -> Callable:
    """A dbt event callback that says what dbt found once parsed, then 'n of total nodes' about every `every`
    of the way."""
    state = {"next": every}

    def on_event(event) -> None:
        data = getattr(event, "data", None)
        if event.info.name == "FoundStats":
            progress(f"dbt found {data.stat_line}")
            return
        # a test's result names its total `num_models`, a model's or seed's `total`
        total = getattr(data, "total", 0) or getattr(data, "num_models", 0)
        if not event.info.name.endswith("Result") or not getattr(data, "index", 0) or not total:
            return
        done = data.index / total
        if done >= state["next"] or data.index == total:
            state["next"] = round(done + every, 6)  # 0.4 + 0.2 is 0.6000000000000001
            progress(f"{data.index} of {total} dbt nodes done")

    return on_event


# dbt writes nothing on the console (its text, with colour codes, would land in redirected logs and break
# `--log-format json`): its errors go through Python logging (`_log_callback`), where the CLI
# formats them like its own lines; the full debug log stays in the warehouse's .dbt/logs/dbt.log.
CONSOLE_OFF = ("--log-level", "none", "--log-level-file", "debug", "--no-use-colors", "--no-use-colors-file")
DBT_LOGGER = logging.getLogger("atlassian_posture.dbt")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _log_callback(event) -> None:
    """dbt's errors, one log record each (what `--quiet` used to print; its warnings are for the project's
    developers and stay in dbt.log)."""
    if event.info.level == "error" and event.info.msg:
        DBT_LOGGER.error("%s", ANSI.sub("", event.info.msg))


def build(warehouse: Warehouse | Path | str, project_dir: Path = PROJECT_DIR,
          progress: Callable[[str], None] | None = None, unit_tests: bool = False,
          tests: bool = True, staging_tests: bool = False, threads: int = BUILD_THREADS) -> TransformResult:
    """Run `dbt build` for `project_dir` on `warehouse`; raises TransformFailed on any failure.
    `progress`, when given, receives a short line as the build advances. dbt's target and logs go to
    the warehouse's `dbt_dir`, never into the project (which may be installed read-only).

    dbt's unit tests check the models' SQL against fixed inputs, not the data: they run in CI
    (`unit_tests=True`, tests/transform/test_docs.py), not in every scheduled build. The data
    tests (grain, not null, accepted values) run unless `tests=False` (the demo's earlier simulated days,
    which only feed the history: two thirds of a build's time). The staging models' data tests restate on
    the loaded side what the connector enforces at the edge (a key on every row, once: validation.py), so they
    run in CI (`staging_tests=True`, on every simulated topology) and not in scheduled builds, where they were
    half of the tests' time; intermediate and mart tests always run. `threads`: dbt's, 4 by default: much of a
    node's time is dbt's own bookkeeping, which overlaps DuckDB's work even on two cores (DECISIONS.md)."""
    from dbt.cli.main import dbtRunner

    warehouse = Warehouse.of(warehouse)
    if not (Path(project_dir) / "dbt_project.yml").exists():
        raise TransformFailed(f"no dbt project at {project_dir} (dbt_project.yml missing): reinstall the package "
                              "or pass --dbt-project")
    with tempfile.TemporaryDirectory() as profiles_dir:
        Path(profiles_dir, "profiles.yml").write_text(profile_yaml(warehouse, threads))
        callbacks = [_log_callback, *([_progress_callback(progress)] if progress else [])]
        if warehouse.is_server:  # the profile names the variable; the password is never written to a file
            os.environ[PG_PASSWORD_ENV] = warehouse.password
        try:
            result = dbtRunner(callbacks=callbacks).invoke([
                "build", "--project-dir", str(project_dir), "--profiles-dir", profiles_dir, "--profile", PROFILE_NAME,
                "--target-path", str((warehouse.dbt_dir / "target").absolute()),
                "--log-path", str((warehouse.dbt_dir / "logs").absolute()), *CONSOLE_OFF,
                *([] if unit_tests else ["--exclude-resource-type", "unit_test"]),
                *([] if tests else ["--exclude-resource-type", "test"]),
                *([] if staging_tests or not tests else ["--exclude", "path:models/staging,resource_type:test"])])
        finally:
            _release_duckdb()
    if result.exception is not None:
        raise TransformFailed(f"dbt build could not run: {str(result.exception).splitlines()[0]}")
    nodes = list(result.result or [])
    failed = [n for n in nodes if str(n.status) in ("error", "fail")]
    if not result.success or failed:
        first = failed[0] if failed else None
        where = f"{first.node.resource_type} {first.node.name}: {(first.message or '').splitlines()[0]}" if first else ""
        raise TransformFailed(f"dbt build failed ({len(failed)} node(s)); first: {where}")
    models = sum(1 for n in nodes if n.node.resource_type in ("model", "seed", "snapshot"))
    tests = sum(1 for n in nodes if n.node.resource_type in ("test", "unit_test"))
    return TransformResult(models, tests, sum(n.execution_time or 0 for n in nodes))


def _release_duckdb() -> None:
    """dbt-duckdb keeps one DuckDB connection open for the life of the process; close it so
    readers (a dashboard, the next step of the demo) can open the warehouse file."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()
