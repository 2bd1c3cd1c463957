"""Group members of a Cloud site, read once for Jira and Confluence.

Jira and Confluence on one Cloud site share the site's users and groups (same group ids), so
Jira's `group/member` and Confluence's `membersByGroupId` answer the same pairs: one request per
group each. When a run reads both tables for a site with both products, `jira_group_members`
reads the members and hands each page to `confluence_group_members`, which writes them as its
rows (its own table, hints, validation and coverage row) instead of reading them again.

dlt runs resources round-robin in one thread: the Confluence side waits by yielding None (dlt
moves on to the other resources) and drains what Jira read on each turn, so at most a page or
two sit in between. Whether a site is shared is decided once per run, from the resources dlt
selected (`RunFacts`): iterating one resource alone, or a run without Jira's members, reads
Confluence's own endpoint as before. Confluence's shared sites come first, in Jira's order, so
Jira never reads ahead of a Confluence side busy elsewhere.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field

from atlassian_posture.connector.http import RequestStats

JIRA, CONFLUENCE = "jira_group_members", "confluence_group_members"
# Confluence member fields a Jira `UserDetails` carries (Confluence's `email` is Jira's `emailAddress`)
FIELDS = {"accountId": "accountId", "accountType": "accountType", "displayName": "displayName",
          "emailAddress": "email", "timeZone": "timeZone"}


@dataclass
class _Site:
    pages: deque = field(default_factory=deque)  # (group id, [member]) read by Jira, not yet written
    done: bool = False
    stats: RequestStats | None = None  # Jira's, once done: its refused groups are Confluence's too
    failure: Exception | None = None


class SiteMembers:
    """The hand-over between the two resources, per (org key, site name), for one run."""

    def __init__(self, selected: Collection[str] = ()):
        self._selected = selected  # filled by dlt's selection before any resource runs (RunFacts)
        self._lock = threading.Lock()
        self._sites: dict[tuple[str, str], _Site] = {}
        self._decided: bool | None = None

    def shared(self, org_key: str, site) -> bool:
        """Whether this site's members are read by Jira for both tables in this run."""
        with self._lock:
            if self._decided is None:
                self._decided = {JIRA, CONFLUENCE} <= set(self._selected)
            if not (self._decided and {"jira", "confluence"} <= set(site.products)):
                return False
            self._sites.setdefault((org_key, site.name), _Site())
            return True

    # --- Jira's side -------------------------------------------------------------------------------

    def put(self, org_key: str, site_name: str, group_id: str, members: list[dict]) -> None:
        """A page of Jira members (raw, before Jira's row cleaning changes them) as Confluence members."""
        page = [{to: member[src] for src, to in FIELDS.items() if member.get(src) is not None} for member in members]
        with self._lock:
            self._sites[(org_key, site_name)].pages.append((group_id, page))

    def close(self, org_key: str, site_name: str, stats: RequestStats, failure: Exception | None) -> None:
        with self._lock:
            site = self._sites[(org_key, site_name)]
            site.done, site.stats, site.failure = True, stats, failure

    # --- Confluence's side ---------------------------------------------------------------------------

    def take(self, org_key: str, site_name: str) -> Iterator[tuple[str, list[dict]] | None]:
        """(group id, members) pages as Jira reads them, None while waiting for more; ends when Jira is done."""
        while True:
            with self._lock:
                site = self._sites[(org_key, site_name)]
                ready = list(site.pages)
                site.pages.clear()
                done = site.done
            yield from ready
            if done:
                return
            if not ready:
                yield None

    def outcome(self, org_key: str, site_name: str) -> tuple[RequestStats | None, Exception | None]:
        site = self._sites[(org_key, site_name)]
        return site.stats, site.failure
