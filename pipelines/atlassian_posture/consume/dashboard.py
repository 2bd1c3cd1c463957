"""`atlassian-posture dashboard`: the marimo app `dashboard_app.py` served in run mode on loopback.

The app reads the published copy of the warehouse (readcopy.py) with short read-only
connections, so it never holds a lock a scheduled run needs, and its "Reload data" control
picks up what the next run publishes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from atlassian_posture.consume.readcopy import readable_path

APP = Path(__file__).with_name("dashboard_app.py")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def command(warehouse: Path | str | None, host: str = "127.0.0.1", port: int = 2718) -> list[str]:
    """The `marimo run` command line; raises WarehouseUnavailable when nothing was published yet."""
    if host not in LOOPBACK:
        raise ValueError("the dashboard only listens on loopback (127.0.0.1, localhost or ::1)")
    source = readable_path(warehouse)
    return [sys.executable, "-m", "marimo", "run", str(APP), "--headless", "--host", host, "--port", str(port),
            "--no-token", "--no-sandbox", "--", "--warehouse", str(source.absolute())]


def start(warehouse: Path | str | None, host: str = "127.0.0.1", port: int = 2718, **popen) -> subprocess.Popen:
    """Start the dashboard server in a child process (the caller stops it)."""
    env = {**os.environ, "MARIMO_SKIP_UPDATE_CHECK": "1"}
    return subprocess.Popen(command(warehouse, host, port), env=env, **popen)
