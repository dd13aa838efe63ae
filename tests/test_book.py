"""Whole-book checks: table of contents, syllabus coverage, stored outputs, offline pages."""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

import course_lib

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SYLLABUS = ROOT.parent / "shared" / "SYLLABUS.md"
# Syllabus section N is taught by the notebook whose name starts with N ("08_mnist.ipynb" -> section 8).
CHAPTER_SECTIONS = sorted({int(p.name[:2]) for p in NOTEBOOKS if p.name[:2].isdigit()})


def _cells(path):
    return json.loads(path.read_text())["cells"]


def test_every_notebook_is_in_the_table_of_contents():
    toc = (ROOT / "_toc.yml").read_text()
    for nb in NOTEBOOKS:
        assert f"notebooks/{nb.stem}" in toc, f"{nb.name} is missing from _toc.yml"


@pytest.mark.skipif(not SYLLABUS.exists(), reason="../shared/SYLLABUS.md is not beside this checkout")
def test_every_syllabus_item_of_the_written_sections_is_covered():
    ids = re.findall(r"\[(S(\d+)\.\d+)\]", SYLLABUS.read_text())
    wanted = [i for i, sec in ids if int(sec) in CHAPTER_SECTIONS]
    markdown = "\n".join("".join(c["source"]) for nb in NOTEBOOKS for c in _cells(nb)
                         if c["cell_type"] == "markdown")
    comments = " ".join(re.findall(r"<!--(.*?)-->", markdown, re.S))
    missing = [i for i in wanted if not re.search(rf"\b{re.escape(i)}\b", comments)]
    assert not missing, f"syllabus items without a <!-- id --> comment in any notebook: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_stored_outputs_have_no_errors_and_every_code_cell_ran(path):
    for cell in _cells(path):
        if cell["cell_type"] != "code" or not cell["source"]:
            continue
        if "course-setup" in cell.get("metadata", {}).get("tags", []) and not cell.get("outputs"):
            # the set-up cell (scripts/setup_cell.py) does nothing where the course is installed, so a
            # notebook stored before it was added need not be re-executed for it; nbval runs it
            continue
        assert cell.get("execution_count") is not None, f"{path.name}: a cell was never run: {cell['source'][:60]!r}"
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{path.name}: stored error {out.get('ename')}"


# What a reader must never see in the published book: raw widget reprs, warnings, and glued values that
# myst-nb cannot format (a glued NumPy scalar is stored as "np.float64(...)").
UNWANTED_OUTPUT = re.compile(r"\w+\(children=\(|Error displaying widget|UserWarning|DeprecationWarning|"
                             r"RuntimeWarning|FutureWarning|^np\.(float|int)\d+\(", re.M)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_stored_outputs_show_no_widget_reprs_warnings_or_numpy_glue(path):
    for i, cell in enumerate(_cells(path)):
        for out in cell.get("outputs", []):
            texts = [out.get("text", "")] + [v for k, v in out.get("data", {}).items() if k.endswith("text/plain")]
            for text in texts:
                text = "".join(text) if isinstance(text, list) else text
                match = UNWANTED_OUTPUT.search(text)
                assert match is None, f"{path.name} cell {i} stores {match.group(0)!r}: fix and re-execute"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebooks_do_not_redefine_course_lib(path):
    public = set(course_lib.__all__)
    for cell in _cells(path):
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        try:
            tree = ast.parse("\n".join(ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!"))))
        except SyntaxError:
            continue
        defined = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        assert not defined & public, f"{path.name} redefines course_lib's {sorted(defined & public)}"


def test_built_pages_need_no_network():
    html_dir = ROOT / "_build" / "html"
    if not html_dir.exists():
        pytest.skip("the book is not built (run `make book` first; .ci/run does)")
    pages = list(html_dir.rglob("*.html"))
    assert pages
    external = re.compile(r"<(?:script|link|img)\b[^>]*\b(?:src|href)=[\"'](?:https?:)?//", re.I)
    for page in pages:
        text = page.read_text(errors="ignore")
        found = external.findall(text)
        assert not found, f"{page.relative_to(html_dir)} loads something from the network: {found[:2]}"


@pytest.mark.skipif(not SYLLABUS.exists(), reason="../shared/SYLLABUS.md is not beside this checkout")
def test_errata_appendix_lists_every_erratum_and_links_to_existing_cells():
    errata = (ROOT / "book" / "errata.md").read_text()
    items = re.findall(r"\[(E\d+)\]", SYLLABUS.read_text())
    rows = re.findall(r"^\| (E\d+) \|", errata, re.M)
    assert rows == items, f"the appendix must have one row per erratum, in order: {items}, got {rows}"
    markdown = "\n".join("".join(c["source"]) for nb in NOTEBOOKS for c in _cells(nb)
                         if c["cell_type"] == "markdown")
    targets = set(re.findall(r"^\(([\w-]+)\)=$", markdown, re.M))
    for label in re.findall(r"\{ref\}`[^`<]*<([\w-]+)>`", errata):
        assert label in targets, f"book/errata.md links to ({label})=, which no notebook defines"


def test_api_reference_documents_every_public_module():
    import pkgutil

    api = (ROOT / "book" / "api.md").read_text()
    listed = re.findall(r"^\.\. automodule:: (course_lib\.[\w.]+)$", api, re.M)
    assert len(listed) == len(set(listed)), "a module is listed twice in book/api.md"
    public = [m.name for m in pkgutil.walk_packages(course_lib.__path__, "course_lib.")
              if not any(part.startswith("_") for part in m.name.split("."))]
    # Packages re-export their modules' names: the modules are documented, not the packages. The checks of
    # each chapter are documented through exercises.core (their docstrings are the exercises' hints).
    skip = {"course_lib.viz", "course_lib.widgets", "course_lib.exercises"}
    wanted = [m for m in public if m not in skip and not (m.startswith("course_lib.exercises.")
                                                          and m != "course_lib.exercises.core")]
    missing = sorted(set(wanted) - set(listed))
    assert not missing, f"modules missing from book/api.md: {missing}"
    assert not set(listed) - set(public), "book/api.md lists a module that does not exist"


def test_instructors_chapter_table_is_up_to_date():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "chapter_table.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
