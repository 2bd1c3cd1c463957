"""Test-suite wiring: tests that share an expensive fixture run on one xdist worker.

A module- or session-scoped fixture is built once per worker process that runs a test using it;
with `-n 2` and the default distribution, the medium organization of test_marts_match_truth (about
three and a half minutes) and the session's scheduled warehouse were built twice. `./scripts/test`
runs with `--dist loadgroup`, and each test is put in the group of the first project fixture it uses
that lives longer than a test (with its parameter, so each organization size is still its own group).
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None or item.get_closest_marker("xdist_group"):
            continue
        for name in info.names_closure:
            for definition in info.name2fixturedefs.get(name, ()):
                if definition.scope in ("module", "package", "session") and definition.baseid.startswith("tests"):
                    param = getattr(getattr(item, "callspec", None), "params", {}).get(name)
                    group = f"{definition.baseid}::{name}" + (f"[{param}]" if param is not None else "")
                    item.add_marker(pytest.mark.xdist_group(group))
                    break
            else:
                continue
            break
