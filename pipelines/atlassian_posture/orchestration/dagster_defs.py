"""Dagster definitions: the dlt resources and the dbt models as assets, with lineage, a daily schedule
and retries. Install the extra and point Dagster at this module:

    uv sync --extra dagster
    ATLASSIAN_POSTURE_WAREHOUSE=warehouse/atlassian_posture.duckdb \
        uv run dagster dev -m atlassian_posture.orchestration.dagster_defs

Assets
- `atlassian_raw/<table>`: one per raw table: each dlt resource of the Atlassian source (specs from
  dagster-dlt's translator), its nested-list child tables, and the run facts (coverage, runs,
  posture_settings). One op writes them all through the connector's `extract`, so a Dagster run keeps
  what a scheduled `atlassian-posture run` guarantees: the warehouse lock, the coverage table, each
  organization's server clock and the posture settings.
- every dbt model, seed and test (dagster-dbt's `@dbt_assets`); each dbt source is the raw table's asset,
  so the lineage runs from each API resource to the marts.
- `published_warehouse`: the read copy for dashboards and BI tools (pipelines/atlassian_posture/consume/readcopy.py).
- the `daily_posture` job (scheduled): one op that calls `atlassian_posture.run.run()`, the same lock -> extract ->
  transform -> publish as the CLI, and records a materialization of every asset above.

Configuration is the connector's (`.dlt/config.toml` + `.dlt/secrets.toml`, environment variables, or
`ATLASSIAN_POSTURE_CONFIG=<toml file>`); the warehouse is `$ATLASSIAN_POSTURE_WAREHOUSE`.
"""


import json
import os
from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_dlt import DagsterDltTranslator, build_dlt_asset_specs
from dagster_dlt.translator import DltResourceTranslatorData

from atlassian_posture.connector import atlassian
from atlassian_posture.connector.config import read_settings
from atlassian_posture.transform import PROFILE_NAME, PROJECT_DIR, profile_yaml
from atlassian_posture.warehouse import Warehouse

RAW = "atlassian_raw"  # the dbt source name, and the asset key prefix of raw tables
RUN_FACTS = ("coverage", "runs", "posture_settings")
DAILY_AT = "15 2 * * *"
RETRIES = dg.RetryPolicy(max_retries=2, delay=60, backoff=dg.Backoff.EXPONENTIAL)


class RawTables(DagsterDltTranslator):
    """`atlassian_raw/<resource>`, in the `extract` group, with no upstream (the API is outside Dagster)."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        return super().get_asset_spec(data).replace_attributes(
            key=dg.AssetKey([RAW, data.resource.name]), deps=[], group_name="extract")


class Models(DagsterDbtTranslator):
    """A dbt source is the raw table's asset (`atlassian_raw/<table>`); models keep dbt's keys, grouped by layer."""

    def get_asset_key(self, dbt_resource_props) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([RAW, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props) -> str | None:
        fqn = dbt_resource_props.get("fqn") or []
        return fqn[1] if len(fqn) > 2 and fqn[1] in ("staging", "intermediate", "marts") else "reference"


def _dbt_workdir(warehouse: Warehouse) -> Path:
    """profiles.yml and a parsed manifest for this warehouse, in its dbt directory."""
    workdir = (warehouse.dbt_dir / "dagster").absolute()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "profiles.yml").write_text(profile_yaml(warehouse))
    manifest = workdir / "target" / "manifest.json"
    if not manifest.exists() or manifest.stat().st_mtime < _project_mtime():
        from dbt.cli.main import dbtRunner

        result = dbtRunner().invoke(["parse", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(workdir),
                                     "--profile", PROFILE_NAME, "--target-path", str(workdir / "target"),
                                     "--log-path", str(workdir / "logs"), "--quiet"])
        if not result.success:
            raise RuntimeError(f"dbt parse failed: {result.exception}")
    return workdir


def _project_mtime() -> float:
    return max(p.stat().st_mtime for p in PROJECT_DIR.rglob("*") if p.suffix in (".sql", ".yml", ".csv"))


def build_definitions(warehouse: Path | str | None = None, config_file: str | None = None,
                      lock_wait_s: float = 600.0) -> dg.Definitions:
    """Definitions for one warehouse; the module-level `defs` reads it from the environment."""
    warehouse = Warehouse.of(warehouse)  # $ATLASSIAN_POSTURE_WAREHOUSE or the default file when not given
    if not warehouse.is_server:
        warehouse = Warehouse(warehouse.path.absolute())
    config_file = config_file or os.environ.get("ATLASSIAN_POSTURE_CONFIG")
    orgs, credentials = read_settings(config_file)
    source = atlassian(orgs, credentials)  # for the asset specs only: building it makes no request
    resources = set(source.resources.keys())
    workdir = _dbt_workdir(warehouse)
    manifest = json.loads((workdir / "target" / "manifest.json").read_text())
    tables = sorted({s["name"] for s in manifest["sources"].values() if s["source_name"] == RAW})
    # dagster-dlt's specs for the resources; the same op also writes their child tables and the run facts
    specs = list(build_dlt_asset_specs(dlt_source=source, dlt_pipeline=warehouse.pipeline(),
                                       dagster_dlt_translator=RawTables()))
    specs += [dg.AssetSpec(key=dg.AssetKey([RAW, table]), group_name="extract", kinds={"dlt", "duckdb"},
                           description=("run facts: " if table in RUN_FACTS else "nested list table: ") + table)
              for table in tables if table not in resources]

    @dg.multi_asset(specs=specs, name="atlassian_extract", can_subset=False)
    def atlassian_extract(context: AssetExecutionContext):
        from atlassian_posture.connector.runner import extract

        run_orgs, run_credentials = read_settings(config_file)
        result = extract(run_orgs, run_credentials, warehouse, lock_wait_s=lock_wait_s)
        for key in context.selected_asset_keys:
            name = key.path[-1]
            statuses = sorted({c["status"] for c in result.coverage if c["resource"] == name})
            yield dg.MaterializeResult(asset_key=key, metadata={
                "rows_loaded": result.rows_by_table.get(name, 0), "run_id": result.run_id,
                "coverage": ", ".join(statuses) or "n/a"})

    @dbt_assets(manifest=workdir / "target" / "manifest.json", dagster_dbt_translator=Models(),
                name="atlassian_posture_dbt")
    def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource):
        with warehouse.lock(lock_wait_s):
            yield from dbt.cli(["build"], context=context).stream()

    @dg.asset(deps=[dg.AssetKey(["marts", "posture_findings"]), dg.AssetKey(["marts", "posture_score_daily"]),
                    dg.AssetKey(["marts", "identity_risks"]), dg.AssetKey(["marts", "plugin_risks"]),
                    dg.AssetKey(["marts", "security_detections"])],
              group_name="publish", description="The read copy dashboards, notebooks and BI tools open.")
    def published_warehouse() -> dg.MaterializeResult:
        with warehouse.lock(lock_wait_s):
            path = warehouse.publish()
        size = {"bytes": Path(path).stat().st_size} if not warehouse.is_server else {}
        return dg.MaterializeResult(metadata={"path": str(path), **size})

    every_asset = [*atlassian_extract.keys, *dbt_models.keys, published_warehouse.key]

    @dg.op(description="One scheduled run, exactly as `atlassian-posture run` does it: atlassian_posture.run.run() "
                       "(lock, extract, dbt build, publish); then every asset it refreshed is recorded.")
    def posture_run(context: dg.OpExecutionContext):
        from atlassian_posture.run import run

        run_orgs, run_credentials = read_settings(config_file)
        outcome = run(run_orgs, run_credentials, warehouse, project_dir=PROJECT_DIR, lock_wait_s=lock_wait_s,
                      on_transform_progress=context.log.info)
        metadata = {"run_id": outcome.extracted.run_id, "published": str(outcome.published)}
        for key in every_asset:
            yield dg.AssetMaterialization(asset_key=key, metadata=metadata)
        yield dg.Output(None)

    @dg.job(name="daily_posture", op_retry_policy=RETRIES,
            description="The daily run (the one library function the CLI and the demo call too). The assets stay "
                        "materializable one by one for backfills and lineage.")
    def daily():
        posture_run()

    return dg.Definitions(
        assets=[atlassian_extract, dbt_models, published_warehouse],
        jobs=[daily, dg.define_asset_job("materialize_assets", selection=dg.AssetSelection.all(),
                                         op_retry_policy=RETRIES)],
        schedules=[dg.ScheduleDefinition(job=daily, cron_schedule=DAILY_AT, execution_timezone="UTC")],
        resources={"dbt": DbtCliResource(project_dir=str(PROJECT_DIR), profiles_dir=str(workdir),
                                         profile=PROFILE_NAME, target="warehouse")},
    )


def _load() -> dg.Definitions | None:
    try:
        return build_definitions()
    except Exception as exc:  # noqa: BLE001 - a workspace without configuration still imports
        if os.environ.get("DAGSTER_IS_DEV_CLI") or __name__ != "__main__":
            print(f"atlassian-posture: Dagster definitions not built: {str(exc).splitlines()[0]}")
        return None


defs = _load() if os.environ.get("ATLASSIAN_POSTURE_DAGSTER_AUTOLOAD", "1") == "1" else None
