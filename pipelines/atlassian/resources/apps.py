"""Resources: apps (being built)."""


def build(connections, coverage) -> list:
    return []
