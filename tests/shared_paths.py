"""Where the tests find material that is not part of the repository (a public clone has none of it).

- `ATLASSIAN_POSTURE_SHARED`: the workplace's shared folder (default: `../shared` beside the repository),
  holding the original check catalog and the independent reference tenants.
- `ATLASSIAN_API_SPECS`: Atlassian's official OpenAPI documents, which the contract tests validate the
  simulator against (default: `<shared>/atlassian-api/specs`). Anyone with internet access can fetch
  them: `uv run python scripts/fetch_atlassian_specs.py --out DIR`, then set the variable to DIR.

Tests that need one of these skip, naming the setting, when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ATLASSIAN_POSTURE_SHARED") or ROOT.parent / "shared")
SPECS = Path(os.environ.get("ATLASSIAN_API_SPECS") or SHARED / "atlassian-api" / "specs")
CHECKS_MD = SHARED / "spec" / "checks.md"
REFERENCE_TENANTS = SHARED / "reference-tenants"


def missing(path: Path, setting: str) -> str:
    """The skip reason when `path` is absent."""
    return f"{path} is absent: set {setting} to use it (see tests/shared_paths.py)"
