#!/usr/bin/env python3
"""Write the student edition of the notebooks: solutions replaced by stubs, exercise outputs cleared.

Usage: python scripts/make_student_edition.py notebooks student

Convention (see book/exercises.md): code between ``### BEGIN SOLUTION`` and
``### END SOLUTION`` becomes ``raise NotImplementedError(...)`` when indented
and disappears at the top level; Markdown between ``<!-- BEGIN SOLUTION -->``
and ``<!-- END SOLUTION -->`` disappears. Markdown between ``<!-- BEGIN MODEL
ANSWER -->`` and ``<!-- END MODEL ANSWER -->`` (model answers of written
questions, discussions of experiments) stays, folded into a collapsed
``<details>`` block that the student opens after writing an answer. Cells
tagged ``solution`` or ``check`` lose their outputs. Everything else is copied
unchanged.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

CODE_BEGIN, CODE_END = "### BEGIN SOLUTION", "### END SOLUTION"
MD_BLOCK = re.compile(r"<!--\s*BEGIN SOLUTION\s*-->.*?<!--\s*END SOLUTION\s*-->\n?", re.S)
MODEL_BLOCK = re.compile(r"<!--\s*BEGIN MODEL ANSWER\s*-->\n?(.*?)<!--\s*END MODEL ANSWER\s*-->", re.S)
# a MyST dropdown admonition, as the book writes model answers: ":::{admonition} Title\n:class: dropdown\n...\n:::"
DROPDOWN = re.compile(r"^:::\{admonition\}\s*(?P<title>[^\n]*)\n(?::class:[^\n]*\n)?(?P<body>.*?)\n:::\s*$", re.S)
STUB = 'raise NotImplementedError("Exercise: replace this line with your code")'


class MarkerError(ValueError):
    """A solution block that is not closed, or nested."""


def strip_code(source: str, where: str = "cell") -> str:
    """Replace every solution block in one code cell's source."""
    out, inside, indent = [], False, ""
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == CODE_BEGIN:
            if inside:
                raise MarkerError(f"{where}: nested {CODE_BEGIN}")
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            if indent:
                out.append(indent + STUB)
            continue
        if stripped == CODE_END:
            if not inside:
                raise MarkerError(f"{where}: {CODE_END} without {CODE_BEGIN}")
            inside = False
            continue
        if not inside:
            out.append(line)
    if inside:
        raise MarkerError(f"{where}: {CODE_BEGIN} is never closed")
    return "\n".join(out)


def fold_model_answer(block: str) -> str:
    """A model answer (a MyST dropdown, or plain Markdown) as a collapsed HTML ``<details>`` block.

    Plain Jupyter does not render MyST dropdowns; ``<details>`` is collapsed in
    JupyterLab, Notebook and VS Code alike.
    """
    block = block.strip()
    m = DROPDOWN.match(block)
    title, body = (m.group("title").strip() or "Model answer", m.group("body").strip()) if m else \
        ("Model answer", block)
    return (f"<details>\n<summary><b>{title}</b> (open it after your own attempt)</summary>\n\n"
            f"{body}\n\n</details>")


def student_notebook(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """Return a student copy of ``nb`` (the input is not modified)."""
    nb = nbformat.from_dict(nb)  # deep copy
    for i, cell in enumerate(nb.cells):
        tags = set(cell.get("metadata", {}).get("tags", []))
        where = f"{name} cell {i}"
        if cell.cell_type == "code":
            cell.source = strip_code(cell.source, where)
            if tags & {"solution", "check"}:
                cell.outputs, cell.execution_count = [], None
            if "solution" in tags:   # the student's own cell: show it, do not fold it away
                cell.metadata["tags"] = [t for t in cell.metadata["tags"] if t != "hide-input"]
        elif cell.cell_type == "markdown":
            cell.source = MD_BLOCK.sub("", cell.source)
            cell.source = MODEL_BLOCK.sub(lambda m: fold_model_answer(m.group(1)), cell.source)
            if CODE_BEGIN in cell.source or "BEGIN SOLUTION" in cell.source:
                raise MarkerError(f"{where}: unbalanced solution markers in Markdown")
            if "MODEL ANSWER" in cell.source:
                raise MarkerError(f"{where}: unbalanced model-answer markers in Markdown")
    return nb


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__)
        return 2
    src, dst = Path(argv[1]), Path(argv[2])
    dst.mkdir(parents=True, exist_ok=True)
    notebooks = sorted(src.glob("*.ipynb"))
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        nbformat.write(student_notebook(nb, path.name), dst / path.name)
    print(f"wrote the student edition of {len(notebooks)} notebooks to {dst}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
