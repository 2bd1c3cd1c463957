"""Controls the notebooks and the dashboard share."""

from __future__ import annotations

import pandas as pd

ALL_ORGANIZATIONS = "all organizations"


def org_picker(mo, orgs: pd.DataFrame):
    """A dropdown of the warehouse's organizations; its value is an org key, or None for all of them."""
    return mo.ui.dropdown({ALL_ORGANIZATIONS: None, **{key: key for key in orgs["org_key"]}},
                          value=ALL_ORGANIZATIONS, label="Organization")
