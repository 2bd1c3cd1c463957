"""Controls the notebooks and the dashboard share."""

from __future__ import annotations

import pandas as pd

ALL_ORGANIZATIONS = "all organizations"


def org_picker(mo, orgs: pd.DataFrame):
    """A dropdown of the warehouse's organizations; its value is an org key, or None for all of them."""
    return mo.ui.dropdown({ALL_ORGANIZATIONS: None, **{key: key for key in orgs["org_key"]}},
                          value=ALL_ORGANIZATIONS, label="Organization")


def integration_note(accounts: pd.DataFrame) -> str:
    """Markdown: which account is this product's own (`queries.integration_accounts`), and why it is
    or is not in the risk ranking."""
    lines = []
    for row in accounts.itertuples():
        why = (f"ranked, because of what its job does not explain: {row.concern_titles}"
               if row.is_ranked else
               "not ranked: its admin rights and API token are its job, and nothing else fired on it")
        lines.append(f"*{row.display_name}* ({row.email}) is the account this product reads as; {why}.")
    return "\n\n".join(lines)
