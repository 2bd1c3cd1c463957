"""One check catalog: checks.toml is the source; the dbt seeds and vars, the catalog document and the
simulator's oracle all agree with it."""

from __future__ import annotations

import csv
import re

import pytest
import yaml
from atlassian_posture.catalog import load
from atlassian_posture.catalog.build import DOC, PROJECT, outputs
from atlassian_simulator import truth

from tests.shared_paths import CHECKS_MD, missing


def test_every_generated_file_matches_the_catalog():
    stale = [str(path) for path, text in outputs().items() if not path.exists() or path.read_text() != text]
    assert not stale, f"regenerate with `uv run python -m atlassian_posture.catalog`: {stale}"


def test_the_seed_and_the_dbt_vars_carry_the_catalog_values():
    catalog = load()
    with open(PROJECT / "seeds" / "check_catalog.csv", newline="") as handle:
        seed = {row["check_id"]: row for row in csv.DictReader(handle)}
    assert list(seed) == catalog.ids and len(seed) == 114
    assert seed["IDENT-003"]["weight"] == "8" and seed["IDENT-003"]["severity"] == "critical"
    variables = yaml.safe_load((PROJECT / "dbt_project.yml").read_text())["vars"]
    assert {k: variables[k] for k in catalog.threshold_values()} == catalog.threshold_values()


def test_the_oracle_reads_the_same_catalog():
    catalog = load()
    assert truth.CHECK_IDS == catalog.ids
    assert truth.IDENT_WEIGHTS == catalog.weights("identity") and truth.PLUGIN_WEIGHTS == catalog.weights("plugin")
    assert all(truth.THRESHOLDS[k] == v for k, v in catalog.threshold_values().items() if k in truth.THRESHOLDS)


def test_the_document_lists_every_check_and_the_readme_links_it():
    text = DOC.read_text()
    assert all(f"| {check_id} |" in text for check_id in load().ids)
    readme = (PROJECT.parent / "README.md").read_text()
    assert "(docs/check-catalog.md)" in readme


@pytest.mark.skipif(not CHECKS_MD.exists(), reason=missing(CHECKS_MD, "ATLASSIAN_POSTURE_SHARED"))
def test_the_ids_are_those_of_the_original_catalog():
    ids = re.findall(r"^\| ((?:POSTURE|IDENT|PLUGIN|AUDIT)-[A-Z0-9]+) \|", CHECKS_MD.read_text(), re.M)
    assert sorted(set(ids)) == sorted(load().ids)
