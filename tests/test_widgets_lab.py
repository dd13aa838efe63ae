"""The live explorers in a real JupyterLab, driven through a headless Chromium.

A JupyterLab server is started on a free local port with a notebook that builds each live explorer
(conv arithmetic, receptive-field tracer, kernel playground, Gabor explorer). Chromium opens it, runs all
cells through Lab's own "run all" command, then moves one slider of each explorer with a real arrow key on
the slider's handle (so Lab's keyboard handling is part of the test) and reads back what the page shows:
the explorer's text must equal what the same explorer computes in this process for the new setting, and
pictures must change. Skipped when Chromium or JupyterLab is missing.
"""
from __future__ import annotations

import html
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request

import nbformat
import pytest

from _browser import Chromium, skip_without_browser

pytest.importorskip("jupyterlab", reason="JupyterLab is not installed (pip install jupyterlab)")
pytestmark = skip_without_browser

from course_lib.widgets import conv_arithmetic_explorer, kernel_playground, receptive_field_tracer  # noqa: E402

# One cell per explorer; each marks its root and the slider the test moves with CSS classes.
SETUP = """\
import numpy as np
from course_lib.widgets import (conv_arithmetic_explorer, gabor_explorer, kernel_playground,
                                receptive_field_tracer)
IMAGE = np.outer(np.hanning(40), np.hanning(48)) * np.cos(np.arange(48) / 2.0)
"""
CELLS = {
    "conv": ('w = conv_arithmetic_explorer(height=7, width=7, kernel_size=3)', 'controls["height"]'),
    "tracer": ("w = receptive_field_tracer(input_size=28)", 'controls["input_size"]'),
    "playground": ('w = kernel_playground({"pattern": IMAGE})', 'controls["threshold"]'),
    "gabor": ("w = gabor_explorer(IMAGE, size=15)", 'controls["theta"]'),
}
IMAGE_CODE = "np.outer(np.hanning(40), np.hanning(48)) * np.cos(np.arange(48) / 2.0)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"display_name": "Python 3 (ipykernel)",
                                                           "language": "python", "name": "python3"}})
    nb.cells.append(nbformat.v4.new_code_cell(SETUP))
    for name, (make, control) in CELLS.items():
        nb.cells.append(nbformat.v4.new_code_cell(f'{make}\nw.add_class("t-{name}")\n'
                                                  f'w.{control}.add_class("t-control")\nw'))
    nbformat.write(nb, root / "explorers.ipynb")
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(root / ".runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(root / ".workspaces"), JUPYTER_CONFIG_DIR=str(root / ".config"))
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=", "--ServerApp.port_retries=0",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=(root / "server.log").open("w"))
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=5).close()
            break
        except OSError:
            if time.time() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("JupyterLab did not start: " + (root / "server.log").read_text()[-2000:])
            time.sleep(0.5)
    chrome = Chromium(tmp_path_factory.mktemp("chromium-lab"))
    try:
        chrome.open(f"http://127.0.0.1:{port}/lab/tree/explorers.ipynb?token={token}&reset")
        wait_for(chrome, "window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell') !== null", 120)
        # a headless window has no focus, so Lab has no "current" widget: find the notebook panel, wait for
        # its kernel, make it the active tab, then run Lab's own command
        panel = "Array.from(jupyterapp.shell.widgets('main')).find(w => w.sessionContext)"
        wait_for(chrome, f"""(() => {{ const w = {panel};
            const k = w && w.sessionContext.session && w.sessionContext.session.kernel;
            return !!k && k.status === "idle"; }})()""", 120)
        chrome.js(f"(async () => {{ const w = {panel}; jupyterapp.shell.activateById(w.id); "
                  f"await w.context.ready; await jupyterapp.commands.execute('notebook:run-all-cells'); }})()")
        for name in CELLS:
            wait_for(chrome, f"document.querySelector('.t-{name} .t-control') !== null", 180)
        yield chrome
    finally:
        chrome.close()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def wait_for(chrome, condition: str, timeout: float):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = chrome.js(f"(() => {{ try {{ return {condition}; }} catch (e) {{ return false; }} }})()")
        if value:
            return value
        time.sleep(0.25)
    raise TimeoutError(f"waited {timeout} s for: {condition[:120]}")


def page_text(chrome, name: str, selector: str) -> str:
    return chrome.js(f"Array.from(document.querySelectorAll('.t-{name} {selector}'))"
                     f".map(e => e.textContent).join(' | ')")


def press_right(chrome, name: str) -> None:
    """A real ArrowRight on the focused handle of the explorer's marked slider."""
    chrome.js(f"(() => {{ const h = document.querySelector('.t-{name} .t-control .noUi-handle'); "
              f"h.scrollIntoView({{block: 'center'}}); h.focus(); }})()")
    assert chrome.js("document.activeElement.classList.contains('noUi-handle')"), "the handle took no focus"
    chrome.key("ArrowRight")


def normalise(markup: str) -> str:
    text = re.sub(r"<style>.*?</style>", "", markup, flags=re.S)
    text = re.sub(r"<(br|/div|/tr|/p)\s*/?>", " ", text)
    return re.sub(r"\s+", "", html.unescape(re.sub(r"<[^>]+>", "", text)))


def image_sources(chrome, name):
    return chrome.js(f"Array.from(document.querySelectorAll('.t-{name} img')).map(i => i.src)")


@pytest.mark.parametrize("name, widget, control_name, new_value", [
    ("conv", lambda: conv_arithmetic_explorer(height=7, width=7, kernel_size=3), "height", 8),
    ("tracer", lambda: receptive_field_tracer(input_size=28), "input_size", 29),
])
def test_html_explorers_follow_a_key_press(lab, name, widget, control_name, new_value):
    mine = widget()
    control = mine.controls[control_name]
    text_of = lambda w: w._text.value  # noqa: E731  (the explorer's formula/table panel)
    before_expected = normalise(text_of(mine))
    wait_for(lab, f"document.querySelector('.t-{name}').textContent.replace(/\\s+/g, '').length > 0", 60)
    assert before_expected in re.sub(r"\s+", "", page_text(lab, name, ".widget-html-content"))
    control.value = new_value
    after_expected = normalise(text_of(mine))
    assert after_expected != before_expected
    press_right(lab, name)
    wait_for(lab, f"Array.from(document.querySelectorAll('.t-{name} .widget-html-content'))"
                  f".map(e => e.textContent).join('').replace(/\\s+/g, '').includes({json.dumps(after_expected)})",
             60)
    readout = page_text(lab, f"{name} .t-control", ".widget-readout")
    assert readout.strip() == str(new_value)


def test_kernel_playground_follows_a_key_press(lab):
    import numpy as np

    mine = kernel_playground({"pattern": eval(IMAGE_CODE, {"np": np})})
    pictures = image_sources(lab, "playground")
    mine.controls["threshold"].value = round(mine.controls["threshold"].value + mine.controls["threshold"].step, 2)
    expected = normalise(mine._info.value)
    press_right(lab, "playground")
    wait_for(lab, f"document.querySelector('.t-playground').textContent.replace(/\\s+/g, '')"
                  f".includes({json.dumps(expected)})", 60)
    wait_for(lab, f"JSON.stringify(Array.from(document.querySelectorAll('.t-playground img')).map(i => i.src))"
                  f" !== {json.dumps(json.dumps(pictures))}", 60)


def test_gabor_explorer_follows_a_key_press(lab):
    pictures = image_sources(lab, "gabor")
    readout = page_text(lab, "gabor .t-control", ".widget-readout")
    press_right(lab, "gabor")
    wait_for(lab, f"document.querySelector('.t-gabor .t-control .widget-readout').textContent "
                  f"!== {json.dumps(readout)}", 60)
    wait_for(lab, f"JSON.stringify(Array.from(document.querySelectorAll('.t-gabor img')).map(i => i.src))"
                  f" !== {json.dumps(json.dumps(pictures))}", 60)


def test_no_errors_in_the_lab_page(lab):
    errors = [ev for ev in lab.events if ev.get("method") == "Runtime.exceptionThrown"]
    assert not errors, errors[:3]
    assert not lab.js("document.querySelectorAll('.jp-OutputArea-output[data-mime-type=\"application/vnd.jupyter.stderr\"]').length")
