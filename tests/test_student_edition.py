"""The student edition: solutions removed, exercise outputs cleared, runs top to bottom."""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import make_student_edition as mse  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOLUTION_BLOCK = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
MD_SOLUTION = re.compile(r"<!--\s*BEGIN SOLUTION\s*-->(.*?)<!--\s*END SOLUTION\s*-->", re.S)


def test_indented_block_becomes_raise_and_top_level_block_disappears():
    src = ("def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n\n"
           "answer = ...\n### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION\nprint('kept')")
    out = mse.strip_code(src)
    assert "return x + 1" not in out and "answer = 42" not in out
    assert "    raise NotImplementedError" in out
    assert "answer = ..." in out and "print('kept')" in out


@pytest.mark.parametrize("src", ["### BEGIN SOLUTION\nx = 1\n",
                                 "x = 1\n### END SOLUTION\n",
                                 "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n"])
def test_unbalanced_markers_are_errors(src):
    with pytest.raises(mse.MarkerError):
        mse.strip_code(src)


def test_markdown_solution_removed_and_outputs_cleared():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("Task <!-- BEGIN SOLUTION -->secret<!-- END SOLUTION --> end"),
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["solution", "hide-input"]}),
        nbformat.v4.new_code_cell("check(x)", metadata={"tags": ["check"]}),
        nbformat.v4.new_code_cell("print(2)")])
    for c in nb.cells[1:]:
        c.outputs = [nbformat.v4.new_output("stream", text="out")]
    st = mse.student_notebook(nb)
    assert "secret" not in st.cells[0].source and "Task" in st.cells[0].source
    assert st.cells[1].outputs == [] and st.cells[2].outputs == []
    assert "hide-input" not in st.cells[1].metadata["tags"]
    assert st.cells[3].outputs, "non-exercise outputs stay"
    assert nb.cells[1].outputs, "the instructor notebook is not modified"


def _significant_lines(text):
    return {ln.strip() for ln in text.splitlines() if len(ln.strip()) >= 20}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_solution_text_survives(path):
    nb = nbformat.read(path, as_version=4)
    student = mse.student_notebook(nb, path.name)
    full_text = "\n".join(c.source for c in nb.cells)
    # lines that appear outside solution blocks may legitimately stay
    outside = _significant_lines(SOLUTION_BLOCK.sub("", MD_SOLUTION.sub("", full_text)))
    secret = set()
    for block in SOLUTION_BLOCK.findall(full_text) + MD_SOLUTION.findall(full_text):
        secret |= _significant_lines(block) - outside
    student_lines = {ln.strip() for c in student.cells for ln in c.source.splitlines()}
    for c in student.cells:
        for o in c.get("outputs", []):
            text = o.get("text", "") + "".join(str(v) for v in o.get("data", {}).values())
            student_lines |= {ln.strip() for ln in text.splitlines()}
    leaked = [ln for ln in secret if ln in student_lines]
    assert not leaked, f"solution lines left in the student edition: {leaked[:3]}"
    assert not any("BEGIN SOLUTION" in ln for ln in student_lines)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_exercise_has_solution_and_check_cells(path):
    nb = nbformat.read(path, as_version=4)
    tags = [set(c.metadata.get("tags", [])) for c in nb.cells]
    n_solution = sum("solution" in t for t in tags)
    n_check = sum("check" in t for t in tags)
    assert n_solution >= 4 and n_check >= 4, "at least four exercises per chapter"
    for cell, t in zip(nb.cells, tags):
        if "solution" in t:
            assert "### BEGIN SOLUTION" in cell.source and "hide-input" in t


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_student_edition_runs_and_checks_say_not_attempted(path, tmp_path):
    from nbclient import NotebookClient
    nb = mse.student_notebook(nbformat.read(path, as_version=4), path.name)
    env_mode = os.environ.get("COURSE_MODE")
    os.environ["COURSE_MODE"] = "quick"
    try:
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        if env_mode is None:
            os.environ.pop("COURSE_MODE")
        else:
            os.environ["COURSE_MODE"] = env_mode
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", f"{path.name}: {out.get('ename')}: {out.get('evalue')}"
        if "check" in cell.metadata.get("tags", []):
            text = "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                           for o in cell.outputs)
            assert "NOT ATTEMPTED YET" in text, f"{path.name}: a check did not report 'not attempted': {text[:200]}"
            assert "PASSED" not in text


def test_model_answers_are_kept_collapsed():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "<!-- BEGIN MODEL ANSWER -->\n:::{admonition} Model answer\n:class: dropdown\nThe *reason*.\n:::\n"
        "<!-- END MODEL ANSWER -->\n\n### Exercise 9.9: next")])
    src = mse.student_notebook(nb).cells[0].source
    assert src.startswith("<details>") and "<summary><b>Model answer</b>" in src
    assert "The *reason*." in src and ":::" not in src and "MODEL ANSWER" not in src
    assert src.rstrip().endswith("### Exercise 9.9: next")


# every chapter follows the issue-8 conventions for written checks and printing solution cells
REVIEWED = list(NOTEBOOKS)


@pytest.mark.parametrize("path", REVIEWED, ids=[p.name for p in REVIEWED])
def test_every_written_check_has_a_model_answer_right_below(path):
    """check_written says "open the model answer in the collapsed cell right below": it must be there."""
    nb = mse.student_notebook(nbformat.read(path, as_version=4), path.name)
    for i, cell in enumerate(nb.cells):
        if "check" in cell.metadata.get("tags", []) and "check_written(" in cell.source:
            below = nb.cells[i + 1] if i + 1 < len(nb.cells) else None
            assert below is not None and below.cell_type == "markdown" and "<details>" in below.source, \
                f"{path.name} cell {i}: no collapsed model answer below the written check"


@pytest.mark.parametrize("path", REVIEWED, ids=[p.name for p in REVIEWED])
def test_printing_solution_cells_hide_their_output_in_the_book(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = set(cell.metadata.get("tags", []))
        if "solution" in tags and "print(" in cell.source:
            assert "remove-output" in tags, f"{path.name}: a printing solution cell shows its numbers: {cell.source[:80]!r}"
