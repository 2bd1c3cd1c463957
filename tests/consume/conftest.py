"""A warehouse built the way a scheduled user builds it: a served simulated organization, then
`atlassian-posture run` (extract, dbt build, publish) in a child process, as cron would call it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from atlassian_posture.consume.readcopy import published_path
from atlassian_simulator.core import Simulator

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@dataclass
class Scheduled:
    sim: Simulator
    workdir: Path
    warehouse: Path
    config: Path

    @property
    def published(self) -> Path:
        return published_path(self.warehouse)

    def run(self, timeout: float = 900) -> subprocess.CompletedProcess:
        """`atlassian-posture run` against the served simulator, in a child process."""
        with self.sim.serve() as base:
            self.config.write_text(self.sim.secrets_toml(base))
            return subprocess.run([sys.executable, "-m", "atlassian_posture.cli", "run", "--warehouse", str(self.warehouse),
                                   "--config-file", str(self.config), "--wait", "600"],
                                  capture_output=True, text=True, timeout=timeout, cwd=self.workdir)


def scheduled_warehouse(workdir: Path, size: str = "tiny", seed: int = 7, orgs: int = 2) -> Scheduled:
    scheduled = Scheduled(Simulator.generate(size, seed=seed, orgs=orgs), workdir, workdir / "posture.duckdb",
                          workdir / "atlassian.toml")
    done = scheduled.run()
    assert done.returncode == 0, done.stderr[-3000:]
    return scheduled


@pytest.fixture(scope="session")
def scheduled(tmp_path_factory) -> Scheduled:
    """Two tiny organizations (exposed, hardened) in one warehouse, built and published by `run`."""
    return scheduled_warehouse(tmp_path_factory.mktemp("scheduled"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def dashboard_server(warehouse: Path) -> Iterator[str]:
    """`atlassian-posture dashboard` in a child process; yields its URL once it answers, stops it after."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "atlassian_posture.cli", "dashboard", "--warehouse", str(warehouse),
                                "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the dashboard did not start: {process.stdout.read().decode()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(process.pid, 15)
        process.wait(20)


@pytest.fixture
def browser():
    """Debian's Chromium, headless, driven by Playwright (executable_path: no browser download)."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (Debian package `chromium`; .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
