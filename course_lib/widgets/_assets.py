"""The static explorers' JS/CSS assets and the self-contained HTML around them."""
from __future__ import annotations

import json
import uuid
from functools import lru_cache
from importlib import resources

LEGEND = ('<div class="cl-legend">'
          '<span><i style="background:#ffffff"></i>input pixel</span>'
          '<span><i style="background:#d6e6f5;border-color:#8fb0d3"></i>padding (zeros) / cropped</span>'
          '<span><i style="background:#bdbdbd"></i>never read / no contribution</span>'
          '<span><i style="background:#f2a144;border-color:#b5530c"></i>kernel taps, current cell</span>'
          '</div>')


@lru_cache(maxsize=None)
def asset(name: str) -> str:
    """Text of ``course_lib/widgets/static/<name>``."""
    return resources.files("course_lib.widgets").joinpath("static", name).read_text(encoding="utf-8")


def new_id(prefix: str) -> str:
    """A fresh element id, so several explorers can share one page."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def static_html(kind: str, config: dict, picture: str, text: str, legend: bool = True) -> str:
    """Self-contained HTML: markup (pre-rendered by Python), inline CSS, inline JS, mount call.

    ``picture`` and ``text`` are what Python draws for the initial settings, so
    the page shows the right thing even before (or without) JavaScript; the
    script then builds the sliders and redraws on every input event.
    """
    assert kind in ("mountConv", "mountTracer")
    eid = new_id("cl-conv" if kind == "mountConv" else "cl-rf")
    cfg = json.dumps(config, ensure_ascii=True, sort_keys=True).replace("</", "<\\/")
    return (f'<div class="cl-explorer" id="{eid}" data-explorer="{kind[5:].lower()}">'
            f'<style>{asset("explorers.css")}</style>'
            f'<div class="cl-controls"></div><div class="cl-picture">{picture}</div>'
            f'<div class="cl-text">{text}</div>{LEGEND if legend else ""}'
            f'<script>{asset("explorers.js")}\n'
            # the script's own parent is the explorer, even if a front end shows this output twice
            f'window.courseLibExplorers.instances["{eid}"] = window.courseLibExplorers.{kind}('
            f'document.currentScript ? document.currentScript.parentNode : "{eid}", {cfg});'
            f'</script></div>')
