"""The Atlassian source the plain dlt way: `uv run python pipelines/atlassian_pipeline.py`.

Reads the tenants from `.dlt/config.toml` and `.dlt/secrets.toml` (or `SOURCES__ATLASSIAN__...`
environment variables) and loads everything the marts need, run facts included, into
`warehouse/atlassian_posture.duckdb`; `cd dbt_project && dbt build` then builds the marts. The
`atlassian-posture run` command adds the warehouse lock, progress, one-line errors, exit codes, the
transform and the published copy: prefer it for schedules.

    dlt pipeline --pipelines-dir warehouse/.dlt-pipelines atlassian_posture info
"""

import dlt
from atlassian_posture.connector import atlassian

if __name__ == "__main__":
    pipeline = dlt.pipeline(
        pipeline_name="atlassian_posture",
        destination=dlt.destinations.duckdb("warehouse/atlassian_posture.duckdb"),
        dataset_name="raw",
        pipelines_dir="warehouse/.dlt-pipelines",  # where `atlassian-posture run` keeps it too
    )
    print(pipeline.run(atlassian()))
