"""Run the Atlassian source the plain dlt way: `uv run python pipelines/atlassian_pipeline.py`.

Reads the tenants from `.dlt/config.toml` and `.dlt/secrets.toml` (or environment
variables) and loads them into `warehouse/atlassian_posture.duckdb`. The `atlassian-posture`
command adds the lock, the coverage table, progress and exit codes; prefer it for schedules.
"""

from pathlib import Path

from atlassian_posture.connector.config import read_settings
from atlassian_posture.connector.runner import extract

if __name__ == "__main__":
    orgs, credentials = read_settings()
    warehouse = Path("warehouse/atlassian_posture.duckdb")
    result = extract(orgs, credentials, warehouse, pipelines_dir=warehouse.parent / ".dlt-pipelines")
    print(f"loaded {sum(result.rows_by_table.values())} rows; {len(result.problems)} resource(s) not collected")
