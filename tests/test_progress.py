"""`extract` and `run` say what they collected as it happens, not at the end: against a site with one slow
endpoint, the line of a fast resource arrives seconds before the slow resource's, in text (stdout, one line
per resource and tenant when not on a terminal) and in JSON (a `resource` event per line on stderr)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import threading
import time
from fnmatch import fnmatchcase

from atlassian_posture.progress import RunProgress
from atlassian_posture.runlog import RunLog
from atlassian_simulator.core import Simulator

SLOW_PATH, SLOW_S = "*/rest/api/3/auditing/record*", 3.0  # jira_audit_records: two requests on the tiny org


class SlowPaths:
    """ASGI middleware: requests whose path matches `pattern` are answered `seconds` late."""

    def __init__(self, app, pattern: str, seconds: float):
        self.app, self.pattern, self.seconds = app, pattern, seconds

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and fnmatchcase(scope["path"], self.pattern):
            await asyncio.sleep(self.seconds)
        await self.app(scope, receive, send)


def _timed_lines(stream, into: list) -> None:
    for line in iter(stream.readline, ""):
        into.append((time.monotonic(), line.rstrip("\n")))


# dlt pulls resources round-robin by default: the slow request (the audit page) would come before the fast
# resource's generator is pulled the last time and ends; one resource after the other ("fifo") lets it end first.
def _extract(tmp_path, config, fmt: str) -> tuple[subprocess.Popen, list, list]:
    process = subprocess.Popen([sys.executable, "-m", "atlassian_posture.cli", "extract", "--warehouse",
                                str(tmp_path / fmt / "posture.duckdb"), "--config-file", str(config), "--log-format",
                                fmt, "--resource", "org_organizations", "--resource", "jira_audit_records"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                               env={**os.environ, "EXTRACT__NEXT_ITEM_MODE": "fifo"})
    out, err = [], []
    for stream, into in ((process.stdout, out), (process.stderr, err)):
        threading.Thread(target=_timed_lines, args=(stream, into), daemon=True).start()
    return process, out, err


def _arrival(lines: list, text: str) -> float:
    return next(t for t, line in lines if text in line)


def test_resources_are_reported_as_they_finish_in_text_and_json(tmp_path):
    sim = Simulator.generate("tiny", seed=7, orgs=1)
    sim.app = SlowPaths(sim.app, SLOW_PATH, SLOW_S)
    config = tmp_path / "atlassian.toml"
    with sim.serve() as base:
        config.write_text(sim.secrets_toml(base))
        runs = {fmt: _extract(tmp_path, config, fmt) for fmt in ("text", "json")}
        for process, _, _ in runs.values():
            assert process.wait(timeout=240) == 0
    time.sleep(0.2)  # the readers drain the closed pipes

    _, out, err = runs["text"]
    assert not [line for _, line in err if line.strip() and not line.startswith("warning: ")], err
    fast, slow = _arrival(out, "org_organizations ["), _arrival(out, "jira_audit_records [")
    assert slow - fast >= SLOW_S - 0.5, "the fast resource's line was held back until the slow one finished"
    assert _arrival(out, "Loaded ") >= slow
    line = next(line for _, line in out if "jira_audit_records [" in line)
    assert line.split()[0] == "ok" and " rows, 2 requests, " in line and line.endswith(" s"), line
    assert not any("\x1b" in line for _, line in out)  # no live display when stdout is not a terminal

    _, out, err = runs["json"]
    assert out == []
    events = [(t, json.loads(line)) for t, line in err]  # every line is JSON
    resources = [(t, e) for t, e in events if e["event"] == "resource"]
    fast = next(t for t, e in resources if e["resource"] == "org_organizations")
    slow, audit = next((t, e) for t, e in resources if e["resource"] == "jira_audit_records")
    assert slow - fast >= SLOW_S - 0.5
    assert audit["status"] == "ok" and audit["rows"] > 0 and audit["requests"] == 2 and audit["duration_s"] >= SLOW_S
    assert audit["run_id"] == next(e for _, e in events if e["event"] == "loaded")["run_id"]
    assert len({(e["resource"], e["tenant"]) for _, e in resources}) == len(resources)  # each reported once


def test_rows_judged_after_they_were_reported_are_reported_again(capsys):
    """Validation (rows rejected at load: `degraded`) is only known at the end: those rows come again."""
    progress = RunProgress(RunLog("json"), live=False)
    ok = {"run_id": "r", "resource": "jira_users", "tenant": "acme/site/jira/cloud", "status": "ok", "reason": "",
          "rows": 3, "requests": 1, "retries": 0, "duration_s": 0.1}
    progress.resource({**ok, "status": "running"})
    progress.resource(ok)
    final = [ok, {**ok, "resource": "org_users", "status": "degraded", "reason": "1 rows rejected"}]
    assert progress.unreported(final) == [final[1]]
    [event] = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert (event["event"], event["resource"], event["status"], event["rows"]) == ("resource", "jira_users", "ok", 3)


def test_the_live_display_prints_each_line_once_above_it():
    stream = io.StringIO()
    log = RunLog("text", stream=stream)
    row = {"run_id": "r", "resource": "org_users", "tenant": "acme/org/cloud", "status": "running", "reason": "",
           "rows": 0, "requests": 0, "retries": 0, "duration_s": 0.0}
    with RunProgress(log, live=True) as progress:
        assert log.console is not None
        progress.resource(row)
        progress.resource({**row, "status": "forbidden", "reason": "403 on /users", "requests": 1, "duration_s": 1.25})
        progress.step("transform", "  10 of 20 dbt nodes done", phase="Transforming")
    assert log.console is None
    lines = stream.getvalue().splitlines()
    assert lines.count("  forbidden     org_users [acme/org/cloud]: 0 rows, 1 request, 1.2 s; 403 on /users") == 1
    assert lines.count("  10 of 20 dbt nodes done") == 1


def test_the_transform_reports_what_dbt_found_then_every_fifth_of_its_nodes_tests_included():
    from types import SimpleNamespace as Event

    from atlassian_posture.transform import _progress_callback

    lines = []
    on_event = _progress_callback(lines.append)
    on_event(Event(info=Event(name="FoundStats"), data=Event(stat_line="2 models, 8 data tests")))
    for index in range(1, 3):
        on_event(Event(info=Event(name="LogModelResult"), data=Event(index=index, total=10)))
    for index in range(3, 11):  # a test's result names its total num_models
        on_event(Event(info=Event(name="LogTestResult"), data=Event(index=index, num_models=10)))
    assert lines == ["dbt found 2 models, 8 data tests", "2 of 10 dbt nodes done", "4 of 10 dbt nodes done",
                     "6 of 10 dbt nodes done", "8 of 10 dbt nodes done", "10 of 10 dbt nodes done"]
