"""What a scheduler (cron, a systemd timer, a CI schedule) relies on: overlapping runs do no damage,
exit codes say what happened, `--log-format json` gives one parseable line per event (run from any directory:
outside the repository no .dlt/config.toml quiets dlt), and no lock file is left beside the warehouse."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import tomllib

import duckdb
from atlassian_posture.consume.readcopy import published_path
from atlassian_simulator.core import Simulator


def _secrets(config: dict) -> list[str]:
    out = []
    for creds in config["sources"]["atlassian"]["credentials"].values():
        out += [v for v in creds.values() if isinstance(v, str) and len(v) >= 12]
    return out


def _run(warehouse, config, wait: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "atlassian_posture.cli", "run", "--warehouse", str(warehouse),
                             "--config-file", str(config), "--log-format", "json", "--wait", str(wait)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=warehouse.parent)


def _events(stderr: str) -> list[dict]:
    return [json.loads(line) for line in stderr.splitlines()]  # every line, blank ones included


def test_overlapping_runs_wait_or_exit_cleanly_and_logs_are_json(tmp_path):
    sim = Simulator.generate("tiny", seed=7, orgs=1)
    warehouse, config = tmp_path / "posture.duckdb", tmp_path / "atlassian.toml"
    with sim.serve() as base:
        config.write_text(sim.secrets_toml(base))
        first = _run(warehouse, config, wait=0)
        lock = tmp_path / "posture.duckdb.lock"
        deadline = time.monotonic() + 120
        while not (lock.exists() and lock.read_text().strip() == str(first.pid)):
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.1)
        # a second run that may not wait exits 4 at once, saying who holds the lock
        refused = _run(warehouse, config, wait=0)
        out, err = refused.communicate(timeout=120)
        assert refused.returncode == 4
        [failed] = _events(err)
        assert failed["event"] == "run_failed" and failed["exit_code"] == 4 and failed["level"] == "error"
        assert f"pid {first.pid}" in failed["message"]
        # a third run that may wait runs once the first is done
        waiting = _run(warehouse, config, wait=900)
        first_out, first_err = first.communicate(timeout=900)
        waiting_out, waiting_err = waiting.communicate(timeout=900)
    assert first.returncode == 0, first_err[-3000:]
    assert waiting.returncode == 0, waiting_err[-3000:]
    assert not lock.exists()
    assert _events(first_out + waiting_out + out) == []  # nothing on stdout (dbt's console included)
    for err in (first_err, waiting_err):
        events = _events(err)  # every line is JSON
        kinds = [e["event"] for e in events]
        assert kinds.count("loaded") == 1 and kinds.count("transformed") == 1 and kinds[-1] == "published"
        assert {"ts", "level", "event", "message", "run_id"} <= events[-1].keys()
        resources = [e for e in events if e["event"] == "resource"]
        assert resources and all(e["tenant"] and e["status"] for e in resources)
    loaded = [next(e for e in _events(err) if e["event"] == "loaded") for err in (first_err, waiting_err)]
    assert loaded[0]["run_id"] != loaded[1]["run_id"]
    everything = first_out + first_err + out + err + waiting_out + waiting_err
    for secret in _secrets(tomllib.loads(config.read_text())):
        assert secret not in everything
    with duckdb.connect(str(published_path(warehouse)), read_only=True) as con:
        runs = {r for (r,) in con.execute("select distinct run_id from raw.runs").fetchall()}
        assert runs == {loaded[0]["run_id"], loaded[1]["run_id"]}
        assert con.execute("select count(*) from marts.check_status").fetchone()[0] == 114
