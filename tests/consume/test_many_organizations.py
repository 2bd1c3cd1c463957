"""One warehouse, several organizations (an MSP, a holding company): every mart carries the
organization (and the site where there is one), and one tenant's rows are exactly what a warehouse
of that tenant alone holds: nothing leaks across organizations, nothing is lost."""

from __future__ import annotations

import duckdb
import pandas as pd

from tests.consume.conftest import scheduled_warehouse

VOLATILE = {"loaded_at"}  # when dlt loaded the row: differs between two runs by design


def _marts(path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [n for (n,) in con.execute("select table_name from information_schema.tables "
                                           "where table_schema = 'marts' order by 1").fetchall()]
        return {n: con.execute(f"select * from marts.{n}").df() for n in names}


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.drop(columns=[c for c in frame.columns if c in VOLATILE])
    return frame.astype(str).sort_values(list(frame.columns)).reset_index(drop=True)


def test_each_tenant_equals_its_own_warehouse(scheduled, tmp_path):
    together = _marts(scheduled.published)
    alone = _marts(scheduled_warehouse(tmp_path, orgs=1).published)
    orgs = together["check_status"][["org_id", "org_key"]].drop_duplicates()
    assert len(orgs) == 2
    first = alone["check_status"]["org_id"].unique().tolist()
    assert len(first) == 1 and first[0] in orgs["org_id"].tolist()
    assert together.keys() == alone.keys()
    for name, frame in together.items():
        assert "org_id" in frame.columns, f"marts.{name} cannot be filtered per organization"
        mine = frame[frame["org_id"] == first[0]]
        pd.testing.assert_frame_equal(_canonical(mine), _canonical(alone[name]), obj=f"marts.{name}")
        others = frame[frame["org_id"] != first[0]]
        assert len(others) and not set(others["org_id"]) & set(first), name


def test_sites_are_carried_where_they_apply(scheduled):
    marts = _marts(scheduled.published)
    for name in ("posture_findings", "plugin_risks", "effective_permissions", "audit_events", "security_detections"):
        assert "site_ref" in marts[name].columns, name
    sites = marts["plugin_risks"].groupby("org_id")["site_ref"].nunique()
    assert (sites >= 1).all()
