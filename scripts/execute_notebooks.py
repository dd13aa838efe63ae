#!/usr/bin/env python3
"""Run notebooks top to bottom in a fresh kernel and store their outputs (what the book shows).

Usage: COURSE_MODE=full python scripts/execute_notebooks.py notebooks/03_convolution.ipynb ...

Widget state is dropped from the stored notebook: the published book must not
load the ipywidgets JavaScript from a CDN. The explorers that must work in the
static book render their own self-contained HTML instead.
"""
from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# The kernelspec JupyterLab writes when it saves a notebook. Storing the same one
# means a notebook does not open as "modified" in Lab just because it was executed here.
LAB_KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
# A kernel with no front end displays a widget as its text repr only, e.g.
# "ConvArithmeticExplorer(children=(HBox(...". That text must never reach the book.
WIDGET_REPR = re.compile(r"^[A-Z]\w*\((children|layout|value|description|box_style)=")


def is_widget_output(out: dict) -> bool:
    """True for a stored output that is a widget view or a widget's raw text repr."""
    data = out.get("data", {})
    if WIDGET_MIME in data:
        return True
    text = data.get("text/plain", "")
    if isinstance(text, list):
        text = "".join(text)
    return set(data) == {"text/plain"} and bool(WIDGET_REPR.match(text.lstrip()))


def strip_widget_state(nb: nbformat.NotebookNode) -> None:
    """Drop widget views (live explorers, tqdm bars in notebook mode) and the widget state.

    A stored widget view is useless in the static book: its text fallback is the
    widget's first frame (for a progress bar, "0%"). The cells that print results
    print them as text as well, and the explorers meant for the book render their
    own HTML.
    """
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if "outputs" in cell:
            cell.outputs = [out for out in cell.outputs if not is_widget_output(out)]


def execute(path: Path, timeout: int = 3600) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    strip_widget_state(nb)
    nb.metadata["kernelspec"] = dict(LAB_KERNELSPEC)
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(paths: list[str]) -> int:
    mode = os.environ.get("COURSE_MODE", "full")
    for p in paths:
        seconds = execute(Path(p))
        print(f"{p}: executed in {mode} mode in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
