"""dbt's `target` for sqlfluff."""

database = "warehouse"
schema = "main"
type = "duckdb"
name = "warehouse"
