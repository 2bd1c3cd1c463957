"""Run dbt on a private copy of a warehouse: for developing models while others do the same.

    uv run python scripts/dbt_dev.py --workdir /tmp/me --warehouse /tmp/ref/small7.duckdb build -s +int_orgs

The warehouse is copied into the work directory once (`--fresh` copies it again); dbt's target
and logs go there too, so several people (or agents) can build the one project concurrently.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from atlassian_posture.transform import PROFILE_NAME, PROJECT_DIR, profile_yaml  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workdir", required=True, type=Path)
    parser.add_argument("--warehouse", type=Path, help="copied to <workdir>/warehouse.duckdb when absent")
    parser.add_argument("--fresh", action="store_true", help="copy the warehouse again")
    args, dbt_args = parser.parse_known_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    target = args.workdir / "warehouse.duckdb"
    if args.warehouse and (args.fresh or not target.exists()):
        shutil.copyfile(args.warehouse, target)
    (args.workdir / "profiles.yml").write_text(profile_yaml(target))
    from dbt.cli.main import dbtRunner

    command = dbt_args or ["build"]
    result = dbtRunner().invoke([*command, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(args.workdir),
                                 "--profile", PROFILE_NAME, "--target-path", str(args.workdir / "target"),
                                 "--log-path", str(args.workdir / "logs")])
    return 0 if result.success else 1


if __name__ == "__main__":
    raise SystemExit(main())
