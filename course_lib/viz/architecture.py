"""Architecture diagrams drawn from a cost table, so the picture is the network as built.

:func:`plot_architecture` takes the rows of :func:`course_lib.costs.layer_costs`
(or of :func:`course_lib.costs.group_costs` for networks with dozens of
layers) and draws two panels: the blocks, one box per layer whose height grows
with the output's spatial size and whose width grows with its channels, and
below them the units, weights and multiply-adds of each layer on a log scale.
"""
from __future__ import annotations

import math
from typing import Optional

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, Rectangle

from ..costs import CostTable

__all__ = ["plot_architecture"]

_KIND_COLOURS = {"conv": "#4C72B0", "pool": "#55A868", "linear": "#C44E52", "batch norm": "#8172B2",
                 "block": "#DD8452", "subsampling": "#55A868", "pad": "#BBBBBB"}


def _colour(kind: str) -> str:
    for key, colour in _KIND_COLOURS.items():
        if key in kind:
            return colour
    return "#937860"


def _shape_text(shape) -> str:
    return " x ".join(str(s) for s in shape)


def plot_architecture(table: CostTable, *, title: Optional[str] = None, max_layers: int = 60,
                      figsize=None):
    """Draw a network's layers as blocks and their costs as bars, from a cost table.

    Parameters
    ----------
    table : CostTable
        From ``layer_costs`` (or ``group_costs``); rows in forward order.
    title : str, optional
    max_layers : int
        Refuse tables longer than this (group them first with ``group_costs``).
    figsize : (float, float), optional

    Returns
    -------
    matplotlib.figure.Figure
        Top axes: one box per layer (height ~ output height H, width ~ log of the
        channels; fully connected layers as thin bars), labelled with the layer
        name and output shape. Bottom axes: units, weights and multiply-adds per
        layer, log scale.

    Examples
    --------
    >>> from course_lib.costs import layer_costs
    >>> from course_lib.models import lenet5
    >>> fig = plot_architecture(layer_costs(lenet5(), (1, 32, 32)), title="LeNet-5")
    >>> len(fig.axes)
    2
    >>> plt.close(fig)
    """
    if not isinstance(table, CostTable):
        raise TypeError(f"table must be a CostTable from course_lib.costs.layer_costs, got "
                        f"{type(table).__name__}")
    if len(table) == 0:
        raise ValueError("table has no rows; build it with layer_costs(model, input_shape)")
    if not isinstance(max_layers, int) or max_layers < 1:
        raise ValueError(f"max_layers must be a positive int, got {max_layers!r}")
    if len(table) > max_layers:
        raise ValueError(f"the table has {len(table)} rows, more than max_layers={max_layers}; group them "
                         f"with course_lib.costs.group_costs(table) or raise max_layers")
    n = len(table)
    figsize = figsize or (max(8.0, 0.75 * n + 2), 6.5)
    fig, (ax, bars) = plt.subplots(2, 1, figsize=figsize, gridspec_kw={"height_ratios": [1.2, 1]})

    # --- the blocks
    spatial = [r.output_shape[1] if len(r.output_shape) == 3 else 1 for r in table]
    channels = [r.output_shape[0] for r in table]
    top_h = max(max(spatial), 1)
    x = 0.0
    centres = []
    for r, h, c in zip(table, spatial, channels):
        height = 0.15 + 0.85 * math.sqrt(h / top_h) if len(r.output_shape) == 3 else \
            0.15 + 0.85 * min(1.0, math.log10(max(c, 1)) / 4)
        width = 0.25 + 0.12 * math.log2(max(c, 1)) if len(r.output_shape) == 3 else 0.2
        ax.add_patch(Rectangle((x, -height / 2), width, height, facecolor=_colour(r.kind), alpha=0.8,
                               edgecolor="black", linewidth=0.6))
        centres.append(x + width / 2)
        ax.text(x + width / 2, height / 2 + 0.04, r.name, rotation=60, ha="left", va="bottom", fontsize=7)
        ax.text(x + width / 2, -height / 2 - 0.04, _shape_text(r.output_shape), rotation=60, ha="right",
                va="top", fontsize=6.5, color="#333333")
        if centres[:-1]:
            ax.add_patch(FancyArrowPatch((prev_end, 0), (x, 0), arrowstyle="-|>", mutation_scale=7,
                                         color="#666666", linewidth=0.6))
        prev_end = x + width
        x += width + 0.35
    ax.set_xlim(-0.3, x)
    ax.set_ylim(-1.6, 1.6)
    ax.set_axis_off()
    kinds = list(dict.fromkeys(r.kind for r in table))
    handles = [Rectangle((0, 0), 1, 1, facecolor=_colour(k), alpha=0.8, edgecolor="black") for k in kinds]
    ax.legend(handles, kinds, loc="upper left", fontsize=7, ncol=min(len(kinds), 6), frameon=False,
              bbox_to_anchor=(0, 1.12))
    ax.set_title(title or "architecture", pad=28)

    # --- the costs
    pos = np.arange(n)
    w = 0.27
    for k, (col, colour) in enumerate([("units", "#999999"), ("weights", "#C44E52"), ("macs", "#4C72B0")]):
        values = np.array([getattr(r, col) or 0 for r in table], dtype=float)
        bars.bar(pos + (k - 1) * w, np.where(values > 0, values, np.nan), w, color=colour,
                 label={"macs": "multiply-adds"}.get(col, col))
    bars.set_yscale("log")
    bars.set_xticks(pos)
    bars.set_xticklabels([r.name for r in table], rotation=60, ha="right", fontsize=7)
    bars.set_ylabel("per image (log scale)")
    bars.set_xlabel("layer")
    bars.legend(fontsize=7, ncol=3, loc="upper right")
    bars.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig
