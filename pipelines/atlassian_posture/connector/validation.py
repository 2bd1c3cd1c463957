"""Row validation at the edge, for the snapshot tables: a row without its key is quarantined, a
key sent twice is loaded once, and a snapshot that rejected rows retires nothing it did not see.

Why the hold: a snapshot (scd2) retires every current row of a tenant that is absent from the
run. A user whose `accountId` came back null is absent under its real key; loading the rest
would retire it, its memberships with it, and a check would pass on a warehouse that simply
lost the account. So when a tenant's snapshot of a table rejected rows, the run yields a hold
marker for that (table, tenant) at the end, and the merge (`destination_scope`, built by
`merge_hints`) retires for that tenant only the rows whose key was seen again (a changed
version replaces its predecessor); everything else stays current until a clean run. Coverage
says `degraded`, with the count and the reason, and the rejected rows land in `raw.quarantine`
(resource, tenant, reason, the raw row as JSON).

Keys are named per table and deployment as the API sends them (before dlt's snake_case);
a table without an entry is checked for exact duplicates only.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime

import dlt
import numpy as np
from dlt.common.normalizers.naming.snake_case import NamingConvention
from dlt.extract.items import DataItemWithMeta
from dlt.extract.resource import DltResource

HOLD = "_hold"  # set only on hold markers, which the merge never inserts (`source_filter`)
ITEM_HOLD = "item refused"  # the `_hold` of a marker that holds one fan-out item's rows (a 403 on it)
# the `_hold` of a marker naming an item a change-driven run read by itself: when a tenant sends any, its load
# retires only rows of those items (the group members of one account: every other row stays current)
ITEM_READ = "item read"
QUARANTINE = "quarantine"
# rows handed to dlt at once: dlt's extract writes what one yield hands it as one line of its jsonl file, and its
# normalize parses a line whole; a resource yielding a listing of 100,000 accounts' role rows at once made
# normalize hold all of them parsed (1.5 GB on the large organization). Rows go on in batches of this many.
BATCH_ROWS = 500

# table -> deployment -> the fields that identify a row within one tenant
KEYS: dict[str, dict[str, tuple[str, ...]]] = {
    "org_users": {"cloud": ("accountId",)},
    "org_group_memberships": {"cloud": ("group_id", "account_id")},
    "org_groups": {"cloud": ("id",)},
    "jira_users": {"cloud": ("accountId",)},
    "jira_dc_users": {"dc": ("name",)},
    "jira_group_members": {"cloud": ("group_id", "accountId"), "dc": ("group_name", "name")},
    "confluence_users": {"cloud": ("accountId",)},
    "confluence_dc_users": {"dc": ("username",)},
    "confluence_group_members": {"cloud": ("group_id", "accountId"), "dc": ("group_name", "username")},
    "apps_installed": {"cloud": ("key",), "dc": ("key",)},
    "jira_filters": {"cloud": ("id",), "dc": ("id",)},
    "jira_dashboards": {"cloud": ("id",), "dc": ("id",)},
}

# table -> the columns (as loaded) naming the parent item a fan-out read the row from. A per-item 403
# (`helpers.per_item`) yields a marker with the item's value in one of them: the merge retires no row
# of that item, while the rows of the items it did read follow the snapshot as usual.
PARENTS: dict[str, tuple[str, ...]] = {
    "jira_role_actors": ("project_id",),
    "jira_project_permission_schemes": ("project_id",),
    "jira_group_members": ("group_id", "group_name"),
    "confluence_group_members": ("group_id", "group_name"),
    "confluence_space_permissions": ("space_id", "space_key"),
    "confluence_space_role_assignments": ("space_id",),
    "org_last_active": ("account_id",),
    "org_group_role_assignments": ("group_id",),
    "org_user_role_assignments": ("account_id",),
    "org_api_tokens": ("account_id",),
    "apps_marketplace": ("key",),
}

# table -> the columns (as loaded) an `ITEM_READ` marker may name: a group or a member
READS: dict[str, tuple[str, ...]] = {
    "jira_group_members": ("group_id", "group_name", "account_id", "name"),
    "confluence_group_members": ("group_id", "group_name", "account_id", "username"),
    "jira_groups": ("group_id",),
    "org_users": ("account_id",),
    "org_group_memberships": ("account_id",),
    "org_user_role_assignments": ("account_id",),
    "org_auth_policy_members": ("account_id",),
    "jira_users": ("account_id",),
    "confluence_users": ("account_id",),
    "jira_dc_users": ("name",),
    "confluence_dc_users": ("username",),
}

# resource -> the other snapshot tables its listing fills, each with a coverage row of its own
FILLS: dict[str, tuple[str, ...]] = {"org_users": ("org_group_memberships",)}

QUARANTINE_COLUMNS = {"run_id": {"data_type": "text"}, "resource": {"data_type": "text"},
                      "tenant": {"data_type": "text"}, "org_key": {"data_type": "text"},
                      "reason": {"data_type": "text"}, "raw": {"data_type": "text"},
                      "rejected_at": {"data_type": "timestamp"}}

_naming = NamingConvention()


def column(field: str) -> str:
    return _naming.normalize_identifier(field)


def merge_hints(table: str) -> tuple[dict, dict]:
    """(write_disposition, extra column hints) of a snapshot table: scd2 per tenant, with the hold."""
    variants = sorted({tuple(column(f) for f in fields) for fields in KEYS.get(table, {}).values()})
    held_tenants = (f'SELECT "_tenant" FROM {{staging_table}} WHERE "{HOLD}" IS NOT NULL '
                    f"AND \"{HOLD}\" NOT IN ('{ITEM_HOLD}', '{ITEM_READ}')")

    def named(columns: tuple[str, ...], where: str) -> str:
        """Whether the row's (tenant, columns) are among the staged rows' that match `where`: uncorrelated, so
        DuckDB builds a hash table of just those rows (correlated EXISTS with OR listed every row's values),
        and false, not NULL, where a column is NULL (as EXISTS was)."""
        mine = ", ".join(f'{{table}}."{c}"' for c in ("_tenant", *columns))
        theirs = ", ".join(f'"{c}"' for c in ("_tenant", *columns))
        return f"coalesce(({mine}) IN (SELECT {theirs} FROM {{staging_table}} WHERE {where}), FALSE)"

    # the keys seen again, of the held tenants' rows only: a run without holds builds an empty table
    seen_again = " OR ".join(named(key, f'"{HOLD}" IS NULL AND "_tenant" IN ({held_tenants})')
                             for key in variants) or "FALSE"
    reads = READS.get(table, ())
    sent = f'"{HOLD}" IS NULL' + (f" OR \"{HOLD}\" = '{ITEM_READ}'" if reads else "")
    scope = (f'{{table}}."_tenant" IN (SELECT "_tenant" FROM {{staging_table}} WHERE {sent}) AND '
             f'({{table}}."_tenant" NOT IN ({held_tenants}) OR {seen_again})')
    parents = PARENTS.get(table, ())
    if parents:  # rows of a refused item stay current
        scope += " AND NOT (" + " OR ".join(named((c,), f'"{HOLD}" = \'{ITEM_HOLD}\'') for c in parents) + ")"
    if reads:  # a tenant read item by item: only the rows of the items read
        scope += (f' AND ({{table}}."_tenant" NOT IN (SELECT "_tenant" FROM {{staging_table}} WHERE "{HOLD}" = '
                  f"'{ITEM_READ}') OR " + " OR ".join(named((c,), f'"{HOLD}" = \'{ITEM_READ}\'') for c in reads) + ")")
    disposition = {"disposition": "merge", "strategy": "scd2", "source_filter": f'"{HOLD}" IS NULL',
                   "destination_scope": scope}
    # `_tenant` was the merge key before the scope replaced it: warehouses loaded then keep the hint unless told
    columns = {HOLD: {"data_type": "text", "nullable": True}, "_tenant": {"merge_key": False}}
    for key in variants:  # a key column must exist for the scope's SQL even if no row of that deployment came yet
        columns.update({c: {"data_type": "text", "nullable": True} for c in key})
    columns.update({c: {"data_type": "text", "nullable": True} for c in (*parents, *reads)})
    return disposition, columns


def _is_snapshot(resource: DltResource) -> bool:
    disposition = resource.write_disposition
    return isinstance(disposition, dict) and disposition.get("strategy") == "scd2"


class KeySet:
    """The 8-byte row keys one snapshot saw, in about 8 bytes each: a sorted numpy array, and a set of
    the keys seen since it was last merged. A Python set of ints costs about 60 bytes a key, and a large
    organization's snapshots send millions of keys (every group membership, role assignment, user of
    every product), all held until their resource ends: that alone was more than the 500 MiB the
    extractor's peak may reach. The merge concatenates two sorted runs and sorts stably (timsort: a
    linear merge)."""

    RECENT_MAX = 1 << 15

    def __init__(self):
        self._sorted = np.empty(0, dtype=np.uint64)
        self._recent: set[int] = set()

    def __len__(self) -> int:
        return self._sorted.size + len(self._recent)

    def first_seen(self, keys: list[int]) -> list[bool]:
        """For each key in order, whether it is new (and now remembered): a key twice in `keys` is new once."""
        if self._sorted.size and keys:
            wanted = np.fromiter(keys, dtype=np.uint64, count=len(keys))
            at = np.searchsorted(self._sorted, wanted)
            at[at == self._sorted.size] = 0
            known = (self._sorted[at] == wanted).tolist()
        else:
            known = [False] * len(keys)
        out = []
        for key, old in zip(keys, known, strict=True):
            new = not old and key not in self._recent
            if new:
                self._recent.add(key)
            out.append(new)
        if len(self._recent) >= self.RECENT_MAX:
            recent = np.fromiter(self._recent, dtype=np.uint64, count=len(self._recent))
            recent.sort()
            merged = np.concatenate((self._sorted, recent))
            merged.sort(kind="stable")
            self._sorted, self._recent = merged, set()
        return out


class SnapshotGuard:
    """Checks the rows of one snapshot resource in one run, and records what it did in `coverage`."""

    def __init__(self, resource_name: str, coverage, run_id: str | None = None):
        self.resource_name = resource_name
        self.coverage = coverage
        self.run_id = run_id
        self._keys: dict[tuple[str, str], KeySet] = defaultdict(KeySet)
        self.held: dict[tuple[str, str], dict] = {}  # (table, tenant) -> a row of that tenant (its lineage)

    def check(self, table: str, rows: list[dict]) -> tuple[list[dict], list[dict]]:
        """(rows to load, quarantine rows)."""
        candidates, rejected = [], []
        pending: dict[str, list[tuple[int, int]]] = defaultdict(list)  # tenant -> (position, key hash)
        for row in rows:
            tenant = row.get("_tenant") or ""
            fields = KEYS.get(table, {}).get(row.get("_deployment") or "")
            if fields:
                values = tuple(row.get(f) for f in fields)
                missing = [f for f, v in zip(fields, values, strict=True) if v is None or v == ""]
                if missing:
                    rejected.append(self._quarantine(table, row, f"no {', '.join(missing)}"))
                    self.coverage.note(table, tenant, rejected=1, reason=f"no {', '.join(missing)}")
                    self.held.setdefault((table, tenant), row)
                    continue
                # an 8-byte hash, not the strings: a large site's group members are hundreds of thousands of keys
                text = "\x1f".join(str(v) for v in values)
            else:
                # no declared key: the row itself
                text = json.dumps(row, sort_keys=True, separators=(",", ":"), default=str)
            pending[tenant].append((len(candidates),
                                    int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")))
            candidates.append(row)
        first = [True] * len(candidates)
        for tenant, keyed in pending.items():  # per tenant, one vectorized look-up for the page
            fresh = self._keys[(table, tenant)].first_seen([identity for _, identity in keyed])
            for (i, _), new in zip(keyed, fresh, strict=True):
                first[i] = new
        keep = []
        for row, new in zip(candidates, first, strict=True):
            if new:
                keep.append(row)
            else:
                self.coverage.note(table, row.get("_tenant") or "", duplicates=1)
        return keep, rejected

    def _quarantine(self, table: str, row: dict, reason: str) -> dict:
        return {"run_id": self.run_id, "resource": table, "tenant": row.get("_tenant"), "org_key": row.get("_org_key"),
                "reason": reason, "raw": json.dumps(row, sort_keys=True, default=str),
                "rejected_at": datetime.now(UTC)}

    def holds(self, table: str) -> Iterator[DataItemWithMeta]:
        """One hold marker per (table, tenant) that rejected rows: the merge retires nothing else of it;
        and one per item a fan-out of this resource (writing `table`) was refused: its rows stay current.
        A table that does not name its items' column (`PARENTS`) is held whole for that tenant instead."""
        held = dict(self.held)
        items = []
        for lineage, hold in self.coverage.item_holds(self.resource_name):
            columns = {c: str(v) for c, v in hold.items() if c in PARENTS.get(table, ())}
            if columns:
                items.append({**lineage, **columns, HOLD: ITEM_HOLD})
            else:
                held.setdefault((table, lineage["_tenant"]), lineage)
        items += self._reads(table, self.resource_name)
        if items:
            yield dlt.mark.with_table_name(items, table)
        for (name, tenant), example in held.items():
            lineage = {k: v for k, v in example.items() if k.startswith("_") and not k.startswith("_dlt")}
            yield dlt.mark.with_table_name([{**lineage, "_tenant": tenant, HOLD: "rows rejected"}], name)


    def _reads(self, table: str, resource: str) -> list[dict]:
        items = []
        for lineage, read in self.coverage.item_reads(resource):
            columns = {c: str(v) for c, v in read.items() if c in READS.get(table, ())}
            if columns:
                items.append({**lineage, **columns, HOLD: ITEM_READ})
        return items

    def reads(self, table: str) -> Iterator[DataItemWithMeta]:
        """The `item read` markers of `table`, written by this resource under the coverage row of its own."""
        items = self._reads(table, table)
        if items:
            yield dlt.mark.with_table_name(items, table)


def quarantined(rows: list[dict]) -> DataItemWithMeta:
    """Rejected rows, appended to `quarantine` (not a snapshot: none of the resource's merge hints)."""
    hints = dlt.mark.make_hints(table_name=QUARANTINE, write_disposition="append", merge_key="", primary_key="",
                                columns=QUARANTINE_COLUMNS)
    return dlt.mark.with_hints(rows, hints, create_table_variant=True)


def guarded(resource: DltResource, coverage, run_id: str | None = None) -> DltResource:
    """`resource` with its rows checked (a snapshot resource); any other resource unchanged."""
    if not _is_snapshot(resource):
        return resource
    produce = resource._pipe.gen  # the resource function: dlt calls it when it builds the iterator
    default_table = resource.table_name if isinstance(resource.table_name, str) else resource.name

    def checked() -> Iterator:
        guard = SnapshotGuard(resource.name, coverage, run_id)
        for item in produce():
            if isinstance(item, DataItemWithMeta):
                table = getattr(item.meta, "table_name", None) or default_table
                data = item.data
            else:
                table, data = default_table, item
            single = isinstance(data, dict)
            rows = [data] if single else data
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                yield item
                continue
            keep, rejected = guard.check(table, rows)
            if rejected:
                yield quarantined(rejected)
            for start in range(0, len(keep), BATCH_ROWS):
                batch = keep[start:start + BATCH_ROWS]
                yield dlt.mark.with_table_name(batch, table) if isinstance(item, DataItemWithMeta) else batch
        yield from guard.holds(default_table)
        # a table another of its listings fills (org_users' memberships) has a coverage row of its own: what it
        # read item by item in a change-driven run (`Coverage.mirror`) bounds its load too
        for table in FILLS.get(resource.name, ()):
            yield from guard.reads(table)

    checked.__name__, checked.__doc__ = getattr(produce, "__name__", resource.name), produce.__doc__
    resource._pipe.replace_gen(checked)
    return resource
