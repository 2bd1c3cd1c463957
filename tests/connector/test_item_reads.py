"""`item read` markers (validation.py ITEM_READ): a snapshot tenant read item by item retires only the rows
of the items it read (a change-driven run's group members per account), on a real dlt load into DuckDB;
and a read by id that answers what was not asked fails rather than retire what it did not answer."""

from __future__ import annotations

import dlt
import duckdb
import pytest
from atlassian_posture.connector.helpers import snapshot
from atlassian_posture.connector.http import AtlassianError
from atlassian_posture.connector.resources.jira_identity import only_asked
from atlassian_posture.connector.resources.org import asked_only
from atlassian_posture.connector.validation import HOLD, ITEM_READ


def member(group: str, account: str, tenant: str = "acme/site/jira/cloud", name: str | None = None) -> dict:
    return {"_tenant": tenant, "_deployment": "cloud", "group_id": group, "account_id": account,
            "displayName": name or account}


def read(tenant: str = "acme/site/jira/cloud", **columns) -> dict:
    return {"_tenant": tenant, HOLD: ITEM_READ, **columns}


def load(pipeline, items: list[dict]) -> None:
    @snapshot("jira_group_members")
    def members():
        yield items

    pipeline.run(members())


def current(path) -> set[tuple]:
    with duckdb.connect(str(path), read_only=True) as db:
        return set(db.execute("select _tenant, group_id, account_id, display_name from raw.jira_group_members "
                              "where _dlt_valid_to is null").fetchall())


def test_a_tenant_read_item_by_item_retires_only_the_rows_of_the_items_it_read(tmp_path):
    path = tmp_path / "w.duckdb"
    pipeline = dlt.pipeline("item_reads", destination=dlt.destinations.duckdb(str(path)), dataset_name="raw",
                            pipelines_dir=str(tmp_path / "p"))
    other = "acme/other/jira/cloud"
    load(pipeline, [member("g1", "a1"), member("g1", "a2"), member("g2", "a1"), member("g2", "a3"),
                    member("g1", "a1", other)])
    # a1 left g1 and was renamed; a3 left every group (no row of it, only its marker); g9 was read whole and
    # is empty now; nothing else of the tenant was read, and the other tenant was not read at all
    load(pipeline, [member("g2", "a1", name="Ann"), read(account_id="a1"), read(account_id="a3"),
                    read(group_id="g9")])
    tenant = "acme/site/jira/cloud"
    assert current(path) == {(tenant, "g1", "a2", "a2"), (tenant, "g2", "a1", "Ann"), (other, "g1", "a1", "a1")}


def test_a_tenant_without_item_read_markers_is_a_whole_snapshot_as_before(tmp_path):
    path = tmp_path / "w.duckdb"
    pipeline = dlt.pipeline("item_reads_whole", destination=dlt.destinations.duckdb(str(path)), dataset_name="raw",
                            pipelines_dir=str(tmp_path / "p"))
    load(pipeline, [member("g1", "a1"), member("g1", "a2")])
    load(pipeline, [member("g1", "a2")])
    assert current(path) == {("acme/site/jira/cloud", "g1", "a2", "a2")}


def test_a_read_by_id_that_answers_other_accounts_fails_instead_of_retiring_the_named_ones():
    asked = ["a1", "a2"]
    assert asked_only([{"accountId": "a1"}], asked) == [{"accountId": "a1"}]  # a2 gone: its rows may retire
    with pytest.raises(AtlassianError, match="ignores its accountIds filter"):
        asked_only([{"accountId": "a1"}, {"accountId": "z9"}], asked)  # the server ignored the filter
    only_asked([{"accountId": "a2"}], "accountId", asked, "user/bulk")
    with pytest.raises(AtlassianError, match="ignores the filter"):
        only_asked([{"accountId": "z9"}], "accountId", asked, "user/bulk")
