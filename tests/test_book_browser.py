"""Every page of the built book, opened in a headless Chromium with the network switched off.

For each page: no JavaScript exception or console error, no failed request (the network is emulated as
offline, so anything fetched from the internet fails and is reported), MathJax has typeset every formula
(no raw ``$...$`` or ``\\(...\\)`` left in the text), every image decodes, and every static explorer that
the notebook stored is on the page, built by its script, and answers its first control (a real arrow key
on a slider, a new choice in a drop-down) by changing what it shows. Skipped when the book is not built or no Chromium is installed.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from _browser import Chromium, skip_without_browser

ROOT = Path(__file__).resolve().parents[1]
HTML = Path(os.environ.get("COURSE_BOOK_HTML", ROOT / "_build" / "html"))
PAGES = sorted(p for p in HTML.rglob("*.html") if "_static" not in p.parts and "_sources" not in p.parts) \
    if HTML.is_dir() else []

pytestmark = [skip_without_browser,
              pytest.mark.skipif(not PAGES, reason="the book is not built (run `make book`; .ci/run does)")]

# Controls a reader can operate in an explorer; each must opt out of JupyterLab's keyboard shortcuts
# (the theme's copy buttons on code and output blocks are not part of an explorer).
CONTROLS = "input, select, button, textarea"


def stored_explorers(page: Path) -> int:
    """How many static explorers the page's notebook stored (0 for pages that are not notebooks)."""
    notebook = ROOT / "notebooks" / (page.stem + ".ipynb")
    if page.parent.name != "notebooks" or not notebook.exists():
        return 0
    count = 0
    for cell in json.loads(notebook.read_text())["cells"]:
        for out in cell.get("outputs", []):
            html = out.get("data", {}).get("text/html", "")
            html = "".join(html) if isinstance(html, list) else html
            count += bool(re.search(r'class="cl-explorer"|<select|type="range"', html))
    return count


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chrome = Chromium(tmp_path_factory.mktemp("chromium-book"))
    chrome.send("Network.enable")
    chrome.send("Log.enable")
    chrome.send("Network.emulateNetworkConditions", offline=True, latency=0, downloadThroughput=-1,
                uploadThroughput=-1)
    yield chrome
    chrome.close()


def problems_in_events(events) -> list[str]:
    urls = {ev["params"]["requestId"]: ev["params"]["request"]["url"]
            for ev in events if ev.get("method") == "Network.requestWillBeSent"}
    found = []
    for ev in events:
        method, params = ev.get("method"), ev.get("params", {})
        if method == "Network.loadingFailed" and not params.get("canceled"):
            found.append(f"failed request {urls.get(params['requestId'], '?')}: {params.get('errorText')}")
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            found.append(f"exception: {details.get('exception', {}).get('description', details.get('text'))}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            found.append("console.error: " + " ".join(str(a.get("value", a.get("description")))
                                                       for a in params.get("args", [])))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            found.append(f"log error: {params['entry'].get('text')} {params['entry'].get('url', '')}")
    return found


WAIT_FOR_MATHJAX = """(async () => {
    const formulas = document.querySelectorAll(".math").length;
    const usesMathJax = Array.from(document.scripts).some(s => /mathjax/i.test(s.src));
    if (!usesMathJax) return formulas ? `${formulas} formulas but no MathJax script` : "none";
    for (let i = 0; i < 300 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
        await new Promise(r => setTimeout(r, 100));
    if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) return "MathJax did not start";
    await MathJax.startup.promise;
    const left = Array.from(document.querySelectorAll(".math")).filter(e => !e.querySelector("mjx-container")
                                                                         && e.tagName !== "MJX-CONTAINER");
    return left.length ? `${left.length} of ${formulas} formulas not typeset` : "typeset";
})()"""

# The page's prose as a reader sees it: code, program output and typeset math left out.
RAW_TEX = """(() => {
    const main = document.querySelector("main") || document.body;
    if (!main) return [];
    const copy = main.cloneNode(true);
    copy.querySelectorAll("pre, code, .highlight, script, style, mjx-container, .MathJax, textarea, "
                          + ".output, .cell_output").forEach(e => e.remove());
    const text = copy.textContent;
    const hits = [];
    for (const re of [/\\$\\$[^$]+\\$\\$/g, /(^|[^\\\\$])\\$[^$\\s][^$\\n]{0,200}?[^\\\\\\s]\\$(?!\\d)/g,
                      /\\\\\\([^]{0,200}?\\\\\\)/g, /\\\\\\[[^]{0,200}?\\\\\\]/g])
        for (const m of text.matchAll(re)) hits.push(m[0].trim().slice(0, 80));
    return hits;
})()"""

IMAGES = """(async () => {
    const imgs = Array.from(document.images);
    const results = await Promise.allSettled(imgs.map(i => { i.loading = "eager"; return i.decode(); }));
    return {count: imgs.length,
            broken: imgs.filter((img, k) => results[k].status === "rejected" || img.naturalWidth === 0)
                        .map(img => img.currentSrc.slice(0, 100) || img.alt)};
})()"""

# Static explorers: the cell outputs that hold a control. For each, the first range slider or drop-down.
EXPLORERS = """(() => {
    const outputs = Array.from(document.querySelectorAll(".cell_output, .output"))
        .filter(o => !o.parentElement.closest(".cell_output, .output"));
    return outputs.map((o, k) => { o.setAttribute("data-test-output", k); return o; })
        .filter(o => o.querySelector("input[type=range], select"))
        .map(o => {
            const c = o.querySelector("input[type=range], select");
            c.setAttribute("data-test-control", "yes");
            return {output: o.getAttribute("data-test-output"), kind: c.tagName.toLowerCase(),
                    value: c.value, max: c.max || null, options: c.options ? c.options.length : null};
        });
})()"""


def shown(browser, output: str) -> str:
    # what an explorer shows: its markup with the controls' current values (innerHTML alone omits them)
    return browser.js(f"document.querySelector('[data-test-output=\"{output}\"]').innerHTML")


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(HTML)) for p in PAGES])
def test_page_renders_offline_without_errors(browser, page):
    browser.open(page.as_uri())
    mathjax = browser.js(WAIT_FOR_MATHJAX)
    assert mathjax in ("none", "typeset"), f"{page.name}: {mathjax}"
    images = browser.js(IMAGES)
    raw = browser.js(RAW_TEX)
    problems = problems_in_events(browser.events)
    assert not problems, f"{page.name}: {problems[:5]}"
    assert not images["broken"], f"{page.name}: images that do not decode: {images['broken'][:5]}"
    assert not raw, f"{page.name}: formulas MathJax left as raw TeX: {raw[:5]}"
    if page.parent.name == "notebooks":
        assert images["count"] > 0, f"{page.name} shows no figure at all"


@pytest.mark.parametrize("page", [p for p in PAGES if stored_explorers(p)],
                         ids=[p.name for p in PAGES if stored_explorers(p)])
def test_every_static_explorer_is_there_and_answers_a_key(browser, page):
    browser.open(page.as_uri())
    browser.js(WAIT_FOR_MATHJAX)
    explorers = browser.js(EXPLORERS)
    assert len(explorers) == stored_explorers(page), \
        f"{page.name}: the notebook stored {stored_explorers(page)} explorers, the page built {len(explorers)}"
    unmarked = browser.js(f"Array.from(document.querySelectorAll('[data-test-output]'))"
                          f".filter(o => o.querySelector('[data-test-control]'))"
                          f".flatMap(o => Array.from(o.querySelectorAll('{CONTROLS}')))"
                          f".filter(c => !c.classList.contains('copybtn'))"
                          f".filter(c => c.getAttribute('data-lm-suppress-shortcuts') !== 'true')"
                          f".map(c => c.outerHTML.slice(0, 80))")
    assert not unmarked, f"{page.name}: controls that JupyterLab's shortcuts would steal keys from: {unmarked[:3]}"
    for explorer in explorers:
        before = shown(browser, explorer["output"])
        selector = f'[data-test-output="{explorer["output"]}"] [data-test-control="yes"]'
        at_end = (explorer["kind"] == "input" and explorer["max"] is not None
                  and float(explorer["value"]) >= float(explorer["max"])) or \
                 (explorer["kind"] == "select" and explorer["options"] == 1)
        if explorer["kind"] == "input":
            # a slider: a real arrow key on the focused control
            key = "ArrowLeft" if at_end else "ArrowRight"
            browser.js(f"(() => {{ const c = document.querySelector({json.dumps(selector)}); "
                       f"c.scrollIntoView({{block: 'center'}}); c.focus(); }})()")
            browser.key(key)
        else:
            # a drop-down: headless Chromium opens no pop-up to pick from, so choose the next option and
            # fire the events a choice fires
            browser.js(f"(() => {{ const c = document.querySelector({json.dumps(selector)}); "
                       f"c.selectedIndex = (c.selectedIndex + 1) % c.options.length; "
                       f"c.dispatchEvent(new Event('input', {{bubbles: true}})); "
                       f"c.dispatchEvent(new Event('change', {{bubbles: true}})); }})()")
        value = browser.js(f"document.querySelector({json.dumps(selector)}).value")
        assert value != explorer["value"], f"{page.name}: the explorer's first control did not move"
        after = shown(browser, explorer["output"])
        assert after != before, f"{page.name}: explorer {explorer} did not change what it shows"
    assert not problems_in_events(browser.events), problems_in_events(browser.events)[:5]
