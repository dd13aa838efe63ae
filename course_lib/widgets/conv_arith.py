"""The conv-arithmetic explorer: output sizes of conv, pooling and transposed conv, drawn.

Two front ends share one state (:func:`course_lib.widgets._geometry.conv_state`,
which calls :func:`course_lib.shapes.conv_output_size` and
:func:`course_lib.shapes.conv_transpose_output_size`):

* :func:`conv_arithmetic_explorer`, an ipywidgets container for JupyterLab;
* :func:`conv_arithmetic_explorer_html`, a self-contained HTML/JS version for the
  static book, where no Python kernel runs.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import ipywidgets as widgets
from IPython.display import HTML

from .._checks import check_int
from ._assets import LEGEND, asset, static_html
from ._geometry import CONV_DEFAULTS, CONV_RANGES, MODES, ConvState, Dropped, conv_state
from ._svg import conv_svg, conv_text

__all__ = ["ConvArithmeticExplorer", "conv_arithmetic_explorer", "conv_arithmetic_explorer_html"]

_NUMERIC = ("height", "width", "kernel_size", "stride", "padding", "dilation")


def _check_initial(initial: dict) -> dict:
    """Validate the keyword settings of both explorers; return the full setting dict."""
    unknown = sorted(set(initial) - set(CONV_DEFAULTS))
    if unknown:
        raise TypeError(f"unknown setting {unknown[0]!r}; the explorer accepts "
                        f"{', '.join(CONV_DEFAULTS)}")
    cfg = dict(CONV_DEFAULTS, **initial)
    for name in _NUMERIC:
        lo, hi = CONV_RANGES[name]
        value = check_int(name, cfg[name])
        if not lo <= value <= hi:
            raise ValueError(f"{name} must be between {lo} and {hi} (the slider's range), got "
                             f"{name}={value}; pick a value in {lo}..{hi}")
        cfg[name] = value
    if cfg["mode"] not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got mode={cfg['mode']!r}; "
                         f"e.g. mode='pool-ceil' for MaxPool2d(ceil_mode=True)")
    cfg["step"] = check_int("step", cfg["step"], minimum=0)
    return cfg


class ConvArithmeticExplorer(widgets.VBox):
    """Live conv-arithmetic explorer (see :func:`conv_arithmetic_explorer`).

    Attributes
    ----------
    controls : dict of str -> ipywidgets.Widget
        ``height, width, kernel_size, stride, padding, dilation`` (IntSliders),
        ``mode`` (ToggleButtons), ``step`` (IntSlider) and ``play`` (Play).
    state : ConvState
        Everything shown, recomputed on every change.
    """

    def __init__(self, **initial: int | str):
        cfg = _check_initial(initial)
        style = {"description_width": "80px"}
        self.controls: Dict[str, widgets.Widget] = {
            name: widgets.IntSlider(value=cfg[name], min=CONV_RANGES[name][0],
                                    max=CONV_RANGES[name][1], description=name, style=style,
                                    layout=widgets.Layout(width="300px"))
            for name in _NUMERIC}
        self.controls["mode"] = widgets.ToggleButtons(
            options=list(MODES), value=cfg["mode"], description="mode", style=style,
            tooltips=["Conv2d", "MaxPool2d (floor)", "MaxPool2d(ceil_mode=True)", "ConvTranspose2d"])
        self.controls["step"] = widgets.IntSlider(value=0, min=0, max=0, description="position",
                                                  style=style, layout=widgets.Layout(width="300px"))
        self.controls["play"] = widgets.Play(value=0, min=0, max=0, interval=700,
                                             description="walk the window")
        widgets.jslink((self.controls["play"], "value"), (self.controls["step"], "value"))
        self._picture = widgets.HTML()
        self._text = widgets.HTML()
        self._busy = False
        self.state: ConvState = conv_state(*(cfg[n] for n in _NUMERIC), cfg["mode"])
        c = self.controls
        rows = [widgets.HBox([c["height"], c["width"], c["kernel_size"]]),
                widgets.HBox([c["stride"], c["padding"], c["dilation"]]),
                c["mode"], widgets.HBox([c["step"], c["play"]]),
                self._picture, self._text, widgets.HTML(LEGEND)]
        super().__init__(rows)
        self.add_class("cl-conv-explorer")
        for name in (*_NUMERIC, "mode"):
            c[name].observe(self._on_settings, names="value")
        c["step"].observe(self._on_step, names="value")
        self._update(step=cfg["step"])

    # -- state -------------------------------------------------------------------------------
    @property
    def output_size(self) -> Optional[Tuple[int, int]]:
        """``(H_out, W_out)``, or None when no window fits (impossible setting)."""
        return self.state.output_size

    @property
    def message(self) -> str:
        """The one-line explanation shown under the formula."""
        return self.state.message

    @property
    def dropped(self) -> Dropped:
        """Input rows/cols no window reads (for ``transposed``: output rows/cols nothing reaches)."""
        return self.state.dropped

    @property
    def svg(self) -> str:
        """The SVG markup of the current picture."""
        return self._picture.value

    @property
    def formula(self) -> Tuple[str, str]:
        """The height and width formulas with the numbers substituted."""
        return self.state.rows.formula, self.state.cols.formula

    # -- updates -----------------------------------------------------------------------------
    def _on_settings(self, change) -> None:
        self._update(step=self.controls["step"].value)

    def _on_step(self, change) -> None:
        if not self._busy:
            self._draw()

    def _update(self, step: int) -> None:
        c = self.controls
        self.state = conv_state(*(c[n].value for n in _NUMERIC), c["mode"].value)
        last = max(self.state.steps - 1, 0)
        self._busy = True
        try:
            for name in ("step", "play"):
                if c[name].max < last:
                    c[name].max = last
                c[name].value = min(step, last)
                c[name].max = last
            c["step"].disabled = c["play"].disabled = last == 0
        finally:
            self._busy = False
        self._draw()

    def _draw(self) -> None:
        self._picture.value = conv_svg(self.state, self.controls["step"].value)
        self._text.value = f"<style>{asset('explorers.css')}</style>{conv_text(self.state)}"


def conv_arithmetic_explorer(**initial: int | str) -> ConvArithmeticExplorer:
    """Sliders for a conv/pool/transposed-conv layer, with its picture and output size.

    Move height, width, kernel size, stride, padding and dilation and see the
    padded input (blue border), the (dilated) window at the chosen output
    position (orange), the output grid, the formula with your numbers and the
    output shape. Input rows/columns that no window reaches are grey, with a
    one-line reason; impossible settings show a message instead of an error.

    Parameters
    ----------
    **initial
        Starting values: ``height, width`` (1..32), ``kernel_size`` (1..7),
        ``stride`` (1..4), ``padding`` (0..4), ``dilation`` (1..3), ``mode``
        (``'conv'``, ``'pool-floor'``, ``'pool-ceil'``, ``'transposed'``) and
        ``step`` (the output position, row-major).

    Returns
    -------
    ConvArithmeticExplorer
        An ``ipywidgets.VBox``; read ``.controls``, ``.output_size``,
        ``.message``, ``.dropped``, ``.state``.

    Raises
    ------
    TypeError
        For an unknown setting name or a non-integer value.
    ValueError
        For a value outside its slider's range or an unknown mode.

    Examples
    --------
    >>> ex = conv_arithmetic_explorer(height=7, width=7, kernel_size=3, stride=3)
    >>> ex.output_size, ex.dropped
    ((2, 2), Dropped(rows=(6,), cols=(6,)))
    >>> ex.controls["mode"].value = "pool-ceil"
    >>> ex.controls["height"].value = 16
    >>> ex.output_size
    (6, 3)
    >>> ex.controls["kernel_size"].value = 7; ex.controls["width"].value = 3
    >>> ex.output_size is None, ex.message.startswith("Impossible")
    (True, True)
    """
    return ConvArithmeticExplorer(**initial)


def conv_arithmetic_explorer_html(**initial: int | str) -> HTML:
    """The conv-arithmetic explorer for the static book: HTML + inline JS, no kernel needed.

    Same settings, drawings, formula and output size as
    :func:`conv_arithmetic_explorer`; the sliders are ``<input type=range>``
    and ``static/explorers.js`` redraws on every input event, using a JS port
    of the same arithmetic (tested against course_lib and torch). No CDN, no
    require.js, no fetch; element ids are unique per call.

    Parameters
    ----------
    **initial
        As for :func:`conv_arithmetic_explorer`.

    Returns
    -------
    IPython.display.HTML
        Display it (last line of a cell); ``.data`` holds the markup.

    Examples
    --------
    >>> page = conv_arithmetic_explorer_html(height=7, width=7, stride=3)
    >>> 'type="range"' in page.data or "mountConv" in page.data
    True
    >>> "<b>2 × 2</b>" in page.data        # pre-rendered initial output shape
    True
    """
    cfg = _check_initial(initial)
    st = conv_state(*(cfg[n] for n in _NUMERIC), cfg["mode"])
    cfg["step"] = min(cfg["step"], max(st.steps - 1, 0))
    cfg["ranges"] = {name: list(CONV_RANGES[name]) for name in _NUMERIC}
    return HTML(static_html("mountConv", cfg, conv_svg(st, cfg["step"]), conv_text(st)))
