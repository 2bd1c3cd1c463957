"""The check catalog (checks.toml beside this file): ids, titles, severities, weights, thresholds.

The marts' public contract. Everything that needs a catalog value reads it from here or from a file
generated from here (`python -m atlassian_posture.catalog`): the dbt seeds and vars, the catalog
document, and the simulator's oracle.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SOURCE = Path(__file__).resolve().parent / "checks.toml"
FAMILIES = ("posture", "identity", "plugin", "audit")
SEVERITIES = ("critical", "high", "medium", "low")
# the seed's columns, in order
COLUMNS = ("check_id", "family", "title", "product", "severity", "severity_note", "weight", "logic", "remediation",
           "rationale", "evaluation", "plan_note", "source_keys", "source_url", "data_needed")


@dataclass(frozen=True)
class Threshold:
    name: str
    value: int | float
    used_by: str


@dataclass(frozen=True)
class Catalog:
    checks: tuple[dict, ...]
    thresholds: tuple[Threshold, ...]

    @property
    def ids(self) -> list[str]:
        return [c["id"] for c in self.checks]

    def by_id(self, check_id: str) -> dict:
        return next(c for c in self.checks if c["id"] == check_id)

    def family(self, family: str) -> list[dict]:
        return [c for c in self.checks if c["family"] == family]

    def weights(self, family: str) -> dict[str, tuple[int, str]]:
        """Signal id -> (points in the risk score, severity), for the identity or plugin family."""
        return {c["id"]: (c["weight"], c["severity"]) for c in self.family(family)}

    def threshold_values(self) -> dict[str, int | float]:
        return {t.name: t.value for t in self.thresholds}


@cache
def load(path: Path = SOURCE) -> Catalog:
    data = tomllib.loads(path.read_text())
    checks = tuple(data["check"])
    for check in checks:
        missing = {"id", "family", "title", "severity"} - set(check)
        if missing or check["family"] not in FAMILIES or check["severity"] not in SEVERITIES:
            raise ValueError(f"{path}: check {check.get('id')!r} is malformed ({sorted(missing) or check})")
        if check["family"] in ("identity", "plugin") and not isinstance(check.get("weight"), int):
            raise ValueError(f"{path}: signal {check['id']} needs an integer weight")
    ids = [c["id"] for c in checks]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: duplicate check ids")
    thresholds = tuple(Threshold(name, spec["value"], spec.get("used_by", ""))
                       for name, spec in data["thresholds"].items())
    return Catalog(checks, thresholds)
