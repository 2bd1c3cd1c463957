"""`atlassian-posture dashboard` stopped the way systemd, Docker and schedulers stop it (SIGTERM to its pid)
leaves nothing behind: no marimo server on the port, no child process."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import duckdb
import httpx
import psutil


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_sigterm_stops_the_dashboard_server_and_frees_the_port(tmp_path):
    published = tmp_path / "published" / "posture.duckdb"  # the launcher only needs a published file to exist
    published.parent.mkdir()
    duckdb.connect(str(published)).close()
    port = _free_port()
    cli = subprocess.Popen([sys.executable, "-m", "atlassian_posture.cli", "dashboard", "--warehouse",
                            str(tmp_path / "posture.duckdb"), "--port", str(port)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert cli.poll() is None and time.monotonic() < deadline, cli.stdout.read().decode()[-2000:]
            time.sleep(0.3)
        children = psutil.Process(cli.pid).children(recursive=True)
        assert children, "the dashboard runs marimo in a child process"

        cli.send_signal(signal.SIGTERM)  # to the CLI's pid only, as `docker stop` and `kill` do
        assert cli.wait(timeout=15) == 0
        _, alive = psutil.wait_procs(children, timeout=10)
        assert not alive, f"left running: {alive}"
        assert not _listening(port)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
