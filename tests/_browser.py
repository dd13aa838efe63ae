"""A headless Chromium driven over the Chrome DevTools Protocol, shared by the browser tests.

Real user input: keys go through ``Input.dispatchKeyEvent`` to the focused element and clicks through
``Input.dispatchMouseEvent``, so the browser itself fires the events a reader's keyboard and mouse would.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest


def find_chromium():
    names = [os.environ.get("CHROMIUM_BIN", ""), "chromium", "chromium-browser", "google-chrome",
             "google-chrome-stable", "chrome"]
    return next((shutil.which(n) for n in names if n and shutil.which(n)), None)


CHROMIUM = find_chromium()
NO_CHROMIUM = ("no Chromium binary found (install it with `apt-get install -y chromium`, or point "
               "CHROMIUM_BIN at one)")
try:
    import websocket
except ImportError:  # the tests that need it skip (see skip_without_browser)
    websocket = None

KEYS = {"ArrowRight": 39, "ArrowLeft": 37, "ArrowDown": 40, "ArrowUp": 38}


class Chromium:
    """A headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, profile: Path):
        profile.mkdir(parents=True, exist_ok=True)
        (profile / "DevToolsActivePort").unlink(missing_ok=True)  # a reused profile keeps the last port
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions",
             f"--user-data-dir={profile}", "--remote-debugging-port=0",
             "--window-size=1000,1400", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        deadline = time.time() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.time() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("Chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as r:
            page = next(t for t in json.load(r) if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60,
                                              suppress_origin=True)
        self.next_id, self.events = 0, []
        self.send("Page.enable")
        self.send("Runtime.enable")

    def close(self):
        if getattr(self, "ws", None) is not None:
            self.ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def send(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]
            self.events.append(msg)

    def wait_event(self, name, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for i, ev in enumerate(self.events):
                if ev.get("method") == name:
                    return self.events.pop(i)
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(name)

    def open(self, url):
        self.events.clear()
        self.send("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired")

    def js(self, expression):
        res = self.send("Runtime.evaluate", expression=expression, returnByValue=True,
                        awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"JS error in {expression[:80]!r}: {res['exceptionDetails']}")
        return res["result"].get("value")

    def exceptions(self):
        return [ev["params"]["exceptionDetails"] for ev in self.events
                if ev.get("method") == "Runtime.exceptionThrown"]

    # -- real user input ---------------------------------------------------------------------
    def key(self, name, times=1):
        for _ in range(times):
            for kind in ("rawKeyDown", "keyUp"):
                self.send("Input.dispatchKeyEvent", type=kind, key=name, code=name,
                          windowsVirtualKeyCode=KEYS[name], nativeVirtualKeyCode=KEYS[name])

    def slide(self, selector, value):
        """Move a range slider to ``value`` with arrow keys, as a reader would."""
        current = self.js(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); "
                          f"e.scrollIntoView({{block: 'center'}}); e.focus(); return +e.value; }})()")
        self.key("ArrowRight" if value > current else "ArrowLeft", abs(value - current))
        got = self.js(f"+document.querySelector({json.dumps(selector)}).value")
        assert got == value, f"slider {selector} at {got}, wanted {value}"

    def click(self, selector):
        box = self.js(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); "
                      f"e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect(); "
                      f"return [r.left + r.width / 2, r.top + r.height / 2]; }})()")
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left",
                      clickCount=1)

    def text(self, selector):
        return self.js(f"document.querySelector({json.dumps(selector)}).textContent")


skip_without_browser = pytest.mark.skipif(
    CHROMIUM is None or websocket is None,
    reason=NO_CHROMIUM if CHROMIUM is None else "websocket-client drives Chromium over the DevTools "
                                                "protocol; pip install websocket-client")
