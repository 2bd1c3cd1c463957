"""The warehouse lock: one run at a time, and no `<warehouse>.lock` file left beside the warehouse after a run,
without ever letting two runs in at once (a waiter that got the lock of a file its holder just removed
must lock again)."""

from __future__ import annotations

import fcntl
import os
import threading
import time
import types

import pytest
from atlassian_posture import warehouse as warehouse_module
from atlassian_posture.errors import EXIT_LOCKED, RunFailed
from atlassian_posture.warehouse import Warehouse


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch):
    """A waiter polls every 0.5 s; poll every millisecond here (the module's clock, not the process's)."""
    monkeypatch.setattr(warehouse_module, "time", types.SimpleNamespace(monotonic=time.monotonic,
                                                                         sleep=lambda s: time.sleep(0.001)))


def test_the_lock_file_is_removed_when_the_run_ends_well_or_badly(tmp_path):
    warehouse = Warehouse(tmp_path / "posture.duckdb")
    with warehouse.lock():
        assert warehouse.lock_path.read_text() == str(os.getpid())
    assert not warehouse.lock_path.exists()
    with pytest.raises(ZeroDivisionError), warehouse.lock():
        raise ZeroDivisionError
    assert not warehouse.lock_path.exists()


def test_a_held_lock_refuses_a_second_run(tmp_path):
    warehouse = Warehouse(tmp_path / "posture.duckdb")
    with warehouse.lock(), pytest.raises(RunFailed) as refused, warehouse.lock(wait_s=0.05):
        pass
    assert refused.value.exit_code == EXIT_LOCKED and f"pid {os.getpid()}" in str(refused.value)


def test_a_waiter_on_a_removed_lock_file_locks_the_current_one(tmp_path):
    """The race removal opens: the holder removes the file and unlocks; meanwhile a third run created and
    locked a new file at the path. The waiter gets the old file's lock, and must not run beside the third."""
    warehouse = Warehouse(tmp_path / "posture.duckdb")
    path = warehouse.lock_path
    holder = open(path, "a+")  # noqa: SIM115
    fcntl.flock(holder, fcntl.LOCK_EX)
    entered = threading.Event()

    def waiter():
        with warehouse.lock(wait_s=30):
            entered.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.2)  # the waiter has the old file open and polls its lock
    path.unlink()
    third = open(path, "a+")  # noqa: SIM115
    fcntl.flock(third, fcntl.LOCK_EX)
    fcntl.flock(holder, fcntl.LOCK_UN)
    holder.close()
    assert not entered.wait(0.5), "the waiter ran while another run held the lock file the path names"
    path.unlink()
    fcntl.flock(third, fcntl.LOCK_UN)
    third.close()
    assert entered.wait(10)
    thread.join(10)
    assert not path.exists()


def test_concurrent_runs_never_overlap(tmp_path):
    warehouse = Warehouse(tmp_path / "posture.duckdb")
    inside, overlaps, done = [], [], []

    def run():
        for _ in range(40):
            with warehouse.lock(wait_s=60):
                inside.append(1)
                if len(inside) > 1:
                    overlaps.append(len(inside))
                time.sleep(0.0005)
                inside.pop()
            done.append(1)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(done) == 160 and not overlaps
    assert not warehouse.lock_path.exists()
