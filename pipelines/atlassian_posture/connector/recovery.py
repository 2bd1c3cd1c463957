"""Crash safety of dlt's working folder: a run after a killed or failed one extracts afresh, and the
folder does not grow without bound.

dlt resumes a pending load package when `run` is called: a package killed while it loaded is loaded
again job by job, and a copy job that committed before the kill (but not its "completed" mark)
appends its rows to the staging table a second time, so the merge inserts them twice. And a run that
only finishes a pending package reads nothing new and moves the marts' clock on. So before a run
extracts, every pending package is aborted with dlt's `abort_packages`: the local state (incremental
cursors) and schemas go back to the last load the warehouse committed, the package never gets its
`_dlt_loads` row (so its stray run facts are never read: staging reads only committed loads), and
the run's full snapshot merges over whatever the aborted load half-applied. Snapshots converge (a row
already current is not inserted again, a retired one is inserted afresh), incremental logs are read
again from the restored cursor and merged on their ids.

After a run that loaded, the completed packages and the folders a killed normalize left are removed:
the warehouse, not the working folder, is the record.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

log = logging.getLogger(__name__)


def abort_unfinished(pipeline) -> str | None:
    """Abort what an earlier run left pending; a one-line note of what was discarded, or None."""
    if not pipeline.has_pending_data:
        _remove_orphans(pipeline)
        return None
    extracted = list(pipeline.list_extracted_load_packages())
    normalized = list(pipeline.list_normalized_load_packages())
    partial = [load_id for load_id in normalized if _is_partially_loaded(pipeline, load_id)]
    pipeline.abort_packages()
    _remove_orphans(pipeline)
    what = []
    if partial:
        what.append(f"{len(partial)} half-loaded")
    if len(normalized) > len(partial):
        what.append(f"{len(normalized) - len(partial)} normalized")
    if extracted:
        what.append(f"{len(extracted)} extracted")
    return (f"an earlier run stopped before its load committed ({', '.join(what)} package(s)): discarded, "
            f"state restored to the last committed load; this run reads everything afresh")


def tidy(pipeline) -> None:
    """Remove loaded packages and orphaned working folders (after a run that committed)."""
    storage = pipeline._get_load_storage()  # dlt has no public call to delete loaded packages
    for load_id in pipeline.list_completed_load_packages():
        try:
            storage.delete_loaded_package(load_id)
        except Exception as exc:  # noqa: BLE001 - housekeeping never fails a run that loaded
            log.warning("could not remove loaded package %s: %s", load_id, exc)
    _remove_orphans(pipeline)


def _is_partially_loaded(pipeline, load_id: str) -> bool:
    from dlt.common.storages.load_package import PackageStorage

    try:
        info = pipeline._get_load_storage().get_load_package_info(load_id)
        return PackageStorage.is_package_partially_loaded(info)
    except Exception:  # noqa: BLE001 - only for the note
        return False


def _remove_orphans(pipeline) -> None:
    """Folders in dlt's package storages that are no package: what a killed normalize leaves (a
    temporary folder with a random name beside the packages)."""
    root = Path(pipeline.working_dir)
    known = set(pipeline.list_extracted_load_packages()) | set(pipeline.list_normalized_load_packages()) \
        | set(pipeline.list_completed_load_packages())
    for folder in ("load/new", "load/normalized", "load/loaded", "normalize/extracted"):
        base = root / folder
        if not base.is_dir():
            continue
        for child in base.iterdir():
            if child.is_dir() and child.name not in known:
                shutil.rmtree(child, ignore_errors=True)
