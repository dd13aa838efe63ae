"""Matplotlib figures to PNG bytes for ``ipywidgets.Image`` (no pyplot, no global state)."""
from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def new_figure(width: float, height: float) -> Figure:
    """A pyplot-free figure (nothing leaks into the notebook's figure list).

    The explorers build it once and only update its artists afterwards, which
    keeps a redraw cheap (no new axes, no layout engine).
    """
    fig = Figure(figsize=(width, height), dpi=80)
    FigureCanvasAgg(fig)
    return fig


def to_png(fig: Figure) -> bytes:
    """Render ``fig`` to PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def centred_limit(values) -> float:
    """Symmetric colour limit for a diverging colormap centred on 0 (never 0)."""
    import numpy as np
    m = float(np.max(np.abs(values))) if np.size(values) else 0.0
    return m if m > 0 else 1.0
