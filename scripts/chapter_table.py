#!/usr/bin/env python3
"""Write the instructors' chapter table (book/_generated/chapters.md) from the notebooks themselves.

Usage: python scripts/chapter_table.py [--check]

For each chapter: its title, the trained networks it loads or ships, its exercises by kind, and the
full-mode run time recorded in the stored notebook (the sum of the cells' execution times, as the last
`make execute` measured them). With --check, exit 1 when the stored table is out of date (used by the tests).
"""
from __future__ import annotations

import json
import re
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "book" / "_generated" / "chapters.md"


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def full_mode_seconds(cells: list[dict]) -> float:
    """Sum of the stored cells' execution times (iopub.execute_input -> shell.execute_reply)."""
    total = 0.0
    for cell in cells:
        ex = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in ex and "shell.execute_reply" in ex:
            start = datetime.fromisoformat(ex["iopub.execute_input"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(ex["shell.execute_reply"].replace("Z", "+00:00"))
            total += (end - start).total_seconds()
    return total


def exercise_kind(solution: str) -> str:
    """Classify an exercise by its solution cell: function, value (a prediction or a number read off a result), experiment or written."""
    if re.search(r"^\s*def \w+\(", solution, re.M):
        return "function"
    if re.search(r'^answer\w*\s*=\s*("""|\'\'\'|"|\')', solution, re.M):
        return "written"
    if re.search(r"^results\w*\s*=", solution, re.M):
        return "experiment"
    return "value"


def chapter_row(path: Path) -> dict:
    cells = json.loads(path.read_text())["cells"]
    title = next((re.sub(r"^#\s*", "", line).strip() for c in cells if c["cell_type"] == "markdown"
                  for line in _source(c).splitlines() if line.startswith("# ")), path.stem)
    code = "\n".join(_source(c) for c in cells if c["cell_type"] == "code")
    loads = sorted(set(re.findall(r"load_trained\(\s*[\"'](\w+)[\"']", code)))
    kinds: dict[str, int] = {}
    for cell in cells:
        if "solution" in cell.get("metadata", {}).get("tags", []) and cell["cell_type"] == "code":
            kind = exercise_kind(_source(cell))
            kinds[kind] = kinds.get(kind, 0) + 1
    return {"file": path.stem, "title": title, "loads": loads, "kinds": kinds,
            "minutes": full_mode_seconds(cells) / 60}


def render(rows: list[dict]) -> str:
    lines = ["| Chapter | Loads trained networks | Exercises (function / value / experiment / written) "
             "| Full mode, stored run (min) |", "|---|---|---|---|"]
    for r in rows:
        k = r["kinds"]
        ex = " / ".join(str(k.get(kind, 0)) for kind in ("function", "value", "experiment", "written"))
        loads = ", ".join(f"`{n}`" for n in r["loads"]) or "none"
        lines.append(f"| {{doc}}`{r['title']} <../../notebooks/{r['file']}>` | {loads} | {ex} | {r['minutes']:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    rows = [chapter_row(p) for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]
    text = render(rows)
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT.relative_to(ROOT)} is out of date: run python scripts/chapter_table.py")
            return 1
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)} ({len(rows)} chapters)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
