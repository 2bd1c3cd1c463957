"""Fetch Atlassian's official OpenAPI documents, for the contract tests, from Atlassian's public URLs.

    uv run python scripts/fetch_atlassian_specs.py --out specs/
    ATLASSIAN_API_SPECS=specs/ ./scripts/test tests/contract

The contract tests validate every simulator response against these documents. They are not part of
the repository (Atlassian publishes them; they change); without them those tests skip and say so.
Atlassian's current documents may differ from the snapshots the tests were last run against
(tests/contract/spec_index.py lists the documented relaxations of known spec defects).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import httpx

BASE = "https://dac-static.atlassian.com"
SOURCES = {  # file name the tests look for -> public URL
    "jira-cloud-platform-v3.openapi.json": "https://developer.atlassian.com/cloud/jira/platform/swagger-v3.v3.json",
    "confluence-cloud-v2.openapi.json": "https://developer.atlassian.com/cloud/confluence/openapi-v2.v3.json",
    "confluence-cloud-v1.openapi.json": f"{BASE}/cloud/confluence/swagger.v3.json",
    "admin-user-management.openapi.json": f"{BASE}/cloud/admin/user-management/swagger.v3.json",
    "admin-organization.openapi.reserialized.json": f"{BASE}/cloud/admin/organization/swagger.v3.json",
    # An older snapshot of the same API; Atlassian serves only the current one, which stands in for it.
    "admin-organization.openapi.reserialized.2026-07-22.json": f"{BASE}/cloud/admin/organization/swagger.v3.json",
    "jira-dc-10.3.openapi.json": f"{BASE}/server/jira/platform/jira_software_dc_10003_swagger.v3.json",
    "confluence-dc-10.0.3.openapi.json": f"{BASE}/server/confluence/10.0.3.swagger.v3.json",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="Directory to write the documents to.")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    failed = 0
    with httpx.Client(follow_redirects=True, timeout=60) as client:
        for name, url in SOURCES.items():
            try:
                response = client.get(url)
                response.raise_for_status()
                json.loads(response.content)  # a document, not an error page
            except (httpx.HTTPError, ValueError) as exc:
                print(f"could not fetch {name} from {url}: {exc}", file=sys.stderr)
                failed += 1
                continue
            (args.out / name).write_bytes(response.content)
            print(f"{name}: {len(response.content):,} bytes from {url}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
