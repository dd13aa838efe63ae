#!/usr/bin/env python3
"""Write (or check) the set-up cell at the top of every notebook.

The cell makes a notebook work on a hosted kernel that does not have the course
installed (Colab, a bare JupyterHub): it clones the repository named in
``_config.yml`` (``repository: url``, the same setting the book's launch buttons
use), installs it with ``pip install -e``, and sets ``COURSE_DOWNLOAD=1`` so that
the data loaders download MNIST and CIFAR-10 there. Where ``course_lib`` is
already importable (``make setup``, conda, Binder) the cell does nothing. When a
step fails (no network, no git), it raises an error that says what to run.

The cell is tagged ``remove-cell`` (the HTML book does not show it) and
``course-setup`` (so the tests can find it).

Usage::

    python scripts/setup_cell.py            # rewrite the cell in notebooks/*.ipynb
    python scripts/setup_cell.py --check    # exit 1 if a notebook's cell is missing or stale
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
import yaml  # PyYAML, which Jupyter Book needs too

REPO = Path(__file__).resolve().parents[1]
TAG = "course-setup"
# Where a hosted kernel keeps its clone of the course (Colab's home is /root).
CLONE_DIR = "~/cnn-course"

TEMPLATE = '''\
# Set-up for hosted kernels (Colab, a bare JupyterHub). Where the course is installed (`make setup`,
# conda, Binder) this cell does nothing. Elsewhere it fetches the course (about a minute) and lets the
# data loaders download MNIST and CIFAR-10.
import importlib.util, os, subprocess, sys

REPOSITORY = "{url}"  # _config.yml, repository: url
if importlib.util.find_spec("course_lib") is None:
    home = os.path.expanduser("{clone_dir}")
    steps = [] if os.path.isdir(home) else [["git", "clone", "--quiet", "--depth", "1", "--branch",
                                             "{branch}", REPOSITORY, home]]
    steps.append([sys.executable, "-m", "pip", "install", "--quiet", "-e", home + "[notebooks]"])
    for step in steps:
        try:
            ok = subprocess.run(step).returncode == 0
        except OSError:  # git itself is missing
            ok = False
        if not ok:
            raise RuntimeError(
                f"Setting up the course failed at: {{' '.join(step)}}\\n"
                "Run that command in a terminal to see why (a network is needed). Without a network, copy "
                f"the course's folder to {{home}} and run: {{sys.executable}} -m pip install -e {{home}}")
    sys.path.insert(0, home)  # this kernel started before the install
    os.environ.setdefault("COURSE_DOWNLOAD", "1")
'''


def read_repository(config: Path = REPO / "_config.yml") -> tuple[str, str]:
    """The ``repository: url`` and ``branch`` of ``_config.yml``."""
    repository = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("repository")
    if not isinstance(repository, dict) or "url" not in repository:
        raise SystemExit(f"{config} has no 'repository:' block with a url")
    url = str(repository["url"])
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise SystemExit(f"repository: url in {config} must look like https://github.com/<owner>/<name>"
                         f" (Colab opens notebooks from GitHub), got {url!r}")
    return url, str(repository.get("branch") or "main")


def cell_source(url: str, branch: str = "main") -> str:
    """The set-up cell's code for a repository URL and branch."""
    return TEMPLATE.format(url=url, branch=branch, clone_dir=CLONE_DIR).rstrip("\n")


def setup_cell_index(nb: nbformat.NotebookNode) -> int | None:
    """Index of the notebook's set-up cell, or None."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and TAG in cell.get("metadata", {}).get("tags", []):
            return i
    return None


def apply(nb: nbformat.NotebookNode, source: str) -> bool:
    """Put the set-up cell (with ``source``) in front of the first code cell; True if changed."""
    i = setup_cell_index(nb)
    if i is not None:
        if nb.cells[i].source == source:
            return False
        nb.cells[i].source = source
        return True
    first_code = next(k for k, c in enumerate(nb.cells) if c.cell_type == "code")
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["remove-cell", TAG]})
    cell.pop("id", None)
    if nb.nbformat_minor >= 5:
        cell["id"] = "course-setup"
    nb.cells.insert(first_code, cell)
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale notebooks")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    source = cell_source(*read_repository())
    stale = []
    for path in args.notebooks or sorted((REPO / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if apply(nb, source):
            stale.append(path)
            if not args.check:
                nbformat.write(nb, path)
    verb = "stale" if args.check else "updated"
    for path in stale:
        print(f"{verb}: {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
