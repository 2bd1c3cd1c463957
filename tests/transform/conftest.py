"""Warehouses built the way a user builds them: a served simulated organization, the connector,
then `dbt build` of dbt_project/ (pipelines/atlassian_posture/transform.py), once per module."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from atlassian_posture.connector.runner import extract
from atlassian_posture.transform import build
from atlassian_simulator.core import Simulator
from atlassian_simulator.truth import manifest


@dataclass
class Built:
    sim: Simulator
    warehouse: Path
    workdir: Path
    attest: bool = True
    staging_tests: bool = True  # CI runs the staging tests on every topology; the medium build as scheduled

    def refresh(self) -> dict:
        """Extract again (same pipeline state, so incrementally), rebuild, and return the new truth."""
        with self.sim.serve() as base:
            orgs, credentials = self.sim.connector_config(
                base, attestation_dir=self.workdir / "attestation" if self.attest else None)
            extract(orgs, credentials, self.warehouse, pipelines_dir=self.workdir / "pipelines")
        build(self.warehouse, staging_tests=self.staging_tests)
        return manifest(self.sim, attest=self.attest)


def build_warehouse(tmp: Path, size: str, seed: int, orgs: int = 3, attest: bool = True, staging_tests: bool = True,
                    **sim_kwargs) -> tuple[Built, dict]:
    sim = Simulator.generate(size, seed=seed, orgs=orgs, **sim_kwargs)
    built = Built(sim, tmp / "warehouse.duckdb", tmp, attest, staging_tests)
    return built, built.refresh()


@pytest.fixture(scope="module")
def module_tmp(tmp_path_factory, request) -> Path:
    return tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
