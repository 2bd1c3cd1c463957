"""Resources: jira (being built)."""


def build(connections, coverage) -> list:
    return []
