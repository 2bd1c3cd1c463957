"""The files generated from checks.toml: the dbt seeds, the dbt vars block and the catalog document."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from atlassian_posture.catalog import COLUMNS, Catalog, load

ROOT = Path(__file__).resolve().parents[3]  # the repository (a checkout; an installed wheel has nothing to build)
PROJECT = ROOT / "dbt_project"
DOC = ROOT / "docs" / "check-catalog.md"
VARS_BEGIN = "  # --- thresholds: generated from pipelines/atlassian_posture/catalog/checks.toml; do not edit ---"
VARS_END = "  # --- end of generated thresholds ---"


def _csv(rows: list[dict], columns: tuple[str, ...] | list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def check_catalog_csv(catalog: Catalog) -> str:
    rows = [{col: check.get("id" if col == "check_id" else col, "") for col in COLUMNS} for check in catalog.checks]
    return _csv(rows, COLUMNS)


def plugin_weights_csv(catalog: Catalog) -> str:
    rows = [{"signal_id": c["id"], "weight": c["weight"], "severity": c["severity"]} for c in catalog.family("plugin")]
    return _csv(rows, ("signal_id", "weight", "severity"))


def vars_block(catalog: Catalog) -> str:
    width = max(len(t.name) + len(str(t.value)) for t in catalog.thresholds) + 4
    lines = [VARS_BEGIN]
    for t in catalog.thresholds:
        lines.append(f"  {f'{t.name}: {t.value}':<{width}}  # {t.used_by}".rstrip())
    lines.append(VARS_END)
    return "\n".join(lines)


def dbt_project_yml(catalog: Catalog, current: str) -> str:
    pattern = re.compile(re.escape(VARS_BEGIN) + r".*?" + re.escape(VARS_END), re.S)
    if not pattern.search(current):
        raise ValueError("dbt_project.yml has no generated thresholds block (markers missing)")
    return pattern.sub(lambda _: vars_block(catalog), current)


def _cell(text: object) -> str:
    return str(text or "").replace("|", "\\|").replace("\n", " ")


def document(catalog: Catalog) -> str:
    titles = {"posture": "Posture checks (mart `posture_findings`)",
              "identity": "Identity-risk signals (marts `identity_risks`, `identity_signals`)",
              "plugin": "Plugin-risk signals (marts `plugin_risks`, `plugin_signals`)",
              "audit": "Audit-log detections (marts `audit_events`, `security_detections`)"}
    out = ["# The check catalog", "",
           "Generated from `pipelines/atlassian_posture/catalog/checks.toml` by "
           "`uv run python -m atlassian_posture.catalog`; do not edit by hand.", "",
           "The ids are the public contract of the marts: a check id never changes meaning. Every mart row",
           "carries one; `check_status` says per organization whether each check was evaluated, and if not",
           "why (`manual`: awaits an attestation; `not_evaluable`: this tenant's credentials, plan or",
           "topology cannot give the input; `not_computable`: no API serves it).", "",
           f"{len(catalog.checks)} checks: " + ", ".join(f"{len(catalog.family(f))} {f}" for f in titles) + ".", ""]
    for family, title in titles.items():
        out += [f"## {title}", ""]
        weighted = family in ("identity", "plugin")
        header = "| id | title | product | severity |" + (" weight |" if weighted else "") + " logic | remediation |"
        out += [header, "|" + " --- |" * (header.count("|") - 1)]
        for c in catalog.family(family):
            severity = c["severity"] + (f" ({c['severity_note']})" if c.get("severity_note") else "")
            weight = f" {c['weight']} |" if weighted else ""
            out.append(f"| {c['id']} | {_cell(c['title'])} | {_cell(c.get('product'))} | {_cell(severity)} |{weight} "
                       f"{_cell(c.get('logic'))} | {_cell(c.get('remediation'))} |")
        out.append("")
    out += ["## Thresholds", "", "dbt vars of the project; override with `--vars` on a dbt run.", "",
            "| var | default | used by |", "| --- | --- | --- |"]
    out += [f"| `{t.name}` | {t.value} | {_cell(t.used_by)} |" for t in catalog.thresholds]
    return "\n".join(out) + "\n"


def outputs(catalog: Catalog | None = None) -> dict[Path, str]:
    """Every derived file and the text it must hold."""
    catalog = catalog or load()
    project_yml = PROJECT / "dbt_project.yml"
    return {
        PROJECT / "seeds" / "check_catalog.csv": check_catalog_csv(catalog),
        PROJECT / "seeds" / "plugin_signal_weights.csv": plugin_weights_csv(catalog),
        project_yml: dbt_project_yml(catalog, project_yml.read_text()),
        DOC: document(catalog),
    }
