"""Regenerate the files derived from checks.toml: `uv run python -m atlassian_posture.catalog [--check]`.

--check writes nothing and exits 1 naming the files that are out of date."""

from __future__ import annotations

import sys

from atlassian_posture.catalog.build import ROOT, outputs


def main(argv: list[str]) -> int:
    stale = []
    for path, text in outputs().items():
        if not path.exists() or path.read_text() != text:
            stale.append(path)
            if "--check" not in argv:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
    verb = "out of date" if "--check" in argv else "regenerated"
    for path in stale:
        print(f"{verb}: {path.relative_to(ROOT)}")
    return 1 if stale and "--check" in argv else 0


sys.exit(main(sys.argv[1:]))
