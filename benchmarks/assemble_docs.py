"""Assemble docs/benchmarks.md from each area's docs/benchmarks/<area>.md.

    .venv/bin/python benchmarks/assemble_docs.py

Keeps the hand-written introduction (everything above the first section anchor), then one section
per area in AREAS order, each under an anchor so the table of sections links to it.
"""

from __future__ import annotations

from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
AREAS = [
    ("loaders", "data loaders"), ("world", "demo world"), ("scale", "scale-out"), ("gpu", "ALS on a GPU"),
    ("personalize", "personalization models"), ("personalize-home", "home page"), ("service", "service"),
    ("valuation", "valuation"), ("talent", "talent pay"), ("payments", "payments"),
]


def main() -> None:
    target = DOCS / "benchmarks.md"
    intro = target.read_text().split('<a id="', 1)[0].rstrip().splitlines()
    sections = " · ".join(f"[{label}](#{area})" for area, label in AREAS)
    intro = [("Sections: " + sections) if line.startswith("Sections:") else line for line in intro]
    intro = [line for line in intro if not line.startswith("[") or "](#" not in line or line.startswith("Sections")]
    parts = ["\n".join(intro), ""]
    for area, _ in AREAS:
        parts += [f'<a id="{area}"></a>', "", (DOCS / "benchmarks" / f"{area}.md").read_text().strip(), ""]
    target.write_text("\n".join(parts) + "\n")
    print(f"{target}: {len(AREAS)} sections")


if __name__ == "__main__":
    main()
