"""`--log-format json` is JSON on every line: what dlt logs (multi-line warnings), Python warnings, dbt's errors
and an unexpected crash become one event each; logging is left as it was found afterwards."""

from __future__ import annotations

import json
import logging
import warnings

import pytest
from atlassian_posture.runlog import RunLog

DLT_WARNING = ("In schema `atlassian`: The table 'org_workspaces' has a column that is not\n"
               "  - attributes__usage\n\nUnless type hints are provided, these columns will not be materialized.")


@pytest.fixture(autouse=True)
def dlt_warns():
    """dlt sets its logger's level from its config once a pipeline was made in this process (the repository's
    .dlt/config.toml says ERROR): these tests are about what happens to a warning it does log."""
    dlt = logging.getLogger("dlt")
    level = dlt.level
    dlt.setLevel(logging.WARNING)
    yield
    dlt.setLevel(level)


def _lines(capsys) -> tuple[list[str], list[str]]:
    captured = capsys.readouterr()
    return captured.out.splitlines(), captured.err.splitlines()


def test_library_output_becomes_json_events(capsys):
    dlt = logging.getLogger("dlt")
    dlt.addHandler(logging.StreamHandler())  # what dlt sets up for itself: free text on stderr
    try:
        with RunLog("json").captured():
            dlt.warning(DLT_WARNING)
            warnings.warn("a deprecation a library did not silence", UserWarning, stacklevel=1)
            logging.getLogger("atlassian_posture.dbt").error("Database Error in model x\n  Binder Error: y")
    finally:
        dlt.handlers.pop()
    out, err = _lines(capsys)
    assert out == []
    events = [json.loads(line) for line in err]  # every line is JSON
    assert [(e["event"], e["level"], e["logger"]) for e in events] == [
        ("log", "warning", "dlt"), ("log", "warning", "py.warnings"), ("log", "error", "atlassian_posture.dbt")]
    assert events[0]["message"] == DLT_WARNING.strip()


def test_people_get_one_line_per_warning_and_errors_in_full(capsys):
    with RunLog("text").captured():
        logging.getLogger("dlt").warning(DLT_WARNING)
        logging.getLogger("atlassian_posture.dbt").error("Database Error in model x\n  Binder Error: y")
    _, err = _lines(capsys)
    assert err == ["warning: dlt: In schema `atlassian`: The table 'org_workspaces' has a column that is not "
                   "- attributes__usage",
                   "error: dbt: Database Error in model x", "      Binder Error: y"]


def test_a_crash_is_a_json_event_and_exit_code_1(capsys):
    with pytest.raises(SystemExit) as exited, RunLog("json").captured():
        raise ValueError("unexpected")
    assert exited.value.code == 1
    _, err = _lines(capsys)
    [event] = [json.loads(line) for line in err]
    assert event["event"] == "crash" and event["message"] == "ValueError: unexpected"
    assert "Traceback" in event["traceback"]


def test_logging_is_restored_after(capsys):
    root, dlt = logging.getLogger(), logging.getLogger("dlt")
    before = (list(root.handlers), list(dlt.filters))
    with RunLog("json").captured():
        pass
    assert (list(root.handlers), list(dlt.filters)) == before


def test_what_the_product_expects_is_not_reported(capsys):
    with RunLog("text").captured():
        logging.getLogger("dlt").warning("In schema `atlassian`: The following columns in table 'x' did not receive "
                                         "any data during this load")
    assert _lines(capsys) == ([], [])
