"""scripts/execute_notebooks.py: what it strips from stored outputs and the kernelspec it stores."""
import importlib.util
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("execute_notebooks", ROOT / "scripts" / "execute_notebooks.py")
execute_notebooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(execute_notebooks)


def _out(data):
    return nbformat.v4.new_output("display_data", data=data)


def test_widget_views_and_raw_widget_reprs_are_stripped():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("explorer")
    cell.outputs = [
        _out({"text/plain": "ConvArithmeticExplorer(children=(HBox(children=(IntSlider(value=7"}),
        _out({"text/plain": "GaborExplorer(layout=Layout(width='100%'))"}),
        _out({execute_notebooks.WIDGET_MIME: {"model_id": "x"}, "text/plain": "HBox()"}),
        _out({"text/plain": "(32, 32, 10)"}),
        _out({"text/plain": "Result(children=3)", "text/html": "<b>kept: has an HTML view</b>"}),
        _out({"text/plain": "note: training on 8,000 images (children=none)"}),
    ]
    nb.cells.append(cell)
    nb.metadata["widgets"] = {"state": {}}
    execute_notebooks.strip_widget_state(nb)
    kept = [o["data"]["text/plain"] for o in nb.cells[0].outputs]
    assert kept == ["(32, 32, 10)", "Result(children=3)", "note: training on 8,000 images (children=none)"]
    assert "widgets" not in nb.metadata


def test_stored_kernelspec_is_the_one_jupyterlab_writes():
    assert execute_notebooks.LAB_KERNELSPEC == {"display_name": "Python 3 (ipykernel)", "language": "python",
                                                "name": "python3"}
