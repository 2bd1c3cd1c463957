"""A served simulator per test module (the connector talks HTTP over a real socket)."""

import pytest
from atlassian_simulator.core import Simulator


@pytest.fixture(scope="module")
def served():
    sim = Simulator.generate("small", seed=7, orgs=1)
    with sim.serve() as base:
        yield sim, base
