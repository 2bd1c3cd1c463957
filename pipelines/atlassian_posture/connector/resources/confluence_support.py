"""What the Confluence and apps resources share: the snapshot resource, row cleaning, and the
space and group listings both deployments read once per tenant and run (`helpers.Listings`)."""

from __future__ import annotations

from collections.abc import Callable

from atlassian_posture.connector import helpers
from atlassian_posture.connector.helpers import Listings, Scope, clean_row, drop_keys
from atlassian_posture.connector.http import AtlassianClient, RequestStats
from atlassian_posture.connector.paging import Paginator, paginate

# Hypermedia links: `_links.self`/`base` name the host the row was read through (the site URL
# with a classic token, api.atlassian.com with a scoped one), so keeping them would make the
# same space look changed when a site switches token kind, and version every scd2 row.
LINK_KEYS = ("_links", "_expandable")
# Lineage columns that can be null in a whole load (no Admin API key: no org id; org-wide rows: no
# site): typed up front so dlt materialises them instead of warning.
LINEAGE_COLUMNS = {"_org_id": {"data_type": "text"}, "_site": {"data_type": "text"}}


def snapshot(name: str, **types: str):
    """`helpers.snapshot` with the lineage columns typed; `types` fixes column types where Cloud and DC
    disagree (DC's numeric space ids vs Cloud's strings)."""
    return helpers.snapshot(name, LINEAGE_COLUMNS, **types)


def row(scope: Scope, raw: dict, **parents) -> dict:
    """A raw Confluence object as a warehouse row (`helpers.clean_row`): without its top-level
    `_links`/`_expandable` (navigation, not state), with its parent keys and the lineage columns."""
    return clean_row(scope, raw, LINK_KEYS, **parents)


def listing(listings: Listings, kind: str, client: AtlassianClient, scope: Scope, path: str,
            paginator: Callable[[], Paginator], stats: RequestStats) -> list[dict]:
    """A parent listing (spaces, groups) read once per tenant and run, its rows without links."""

    def fetch(own: RequestStats) -> list[dict]:
        return [drop_keys(item, LINK_KEYS) for page in paginate(client, path, paginator(), stats=own)
                for item in page]

    return listings.get(kind, scope, fetch, stats)
