"""What each layer of a network costs: units, connections, weights and multiply-adds.

:func:`layer_costs` runs the model once on a zero image and records, with
forward hooks, one row per layer that has weights or changes the spatial size
(convolutions, LeNet's partial convolution, pooling and trainable subsampling,
linear layers, batch norm, padding). Nothing comes from a hand-written table,
so the numbers are those of the network as built.

The columns, per input image (Grosse, CSC321 lecture 5; LeCun et al. 1998):

* ``units``: the values the layer outputs (C x H x W, or the features of a
  linear layer).
* ``connections``: the inputs that the units read, summed over the units. An
  input that falls on zero padding is not a connection. With ``count_bias`` a
  unit's bias counts as one more connection, as LeCun counts them.
* ``weights``: the layer's parameters (a shared kernel counts once). With
  ``count_bias=False`` the biases (and batch norm's beta) are left out, as in
  Grosse's Table 1.
* ``macs``: the multiply-adds with weights that the forward pass computes (what
  the hardware does, padding included; pooling has none). The backward pass
  costs about twice as much again.
"""
from __future__ import annotations

from dataclasses import dataclass, asdict
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_int
from .models import PaddedPool2d, PartialConv2d, Subsampling2d, UntiedConv2d

__all__ = ["LayerCost", "CostTable", "layer_costs", "flop_counter_macs", "group_costs", "layer_letters", "is_chain"]

COLUMNS = ("name", "kind", "output_shape", "units", "connections", "weights", "macs")


@dataclass(frozen=True)
class LayerCost:
    """One row of a cost table (numbers per input image)."""
    name: str
    kind: str
    output_shape: Tuple[int, ...]
    units: int
    connections: Optional[int]
    weights: int
    macs: Optional[int]

    def as_dict(self) -> dict:
        return asdict(self)


class CostTable(list):
    """A list of :class:`LayerCost` rows with totals and table views.

    ``str(table)`` is a text table, ``table._repr_html_()`` an HTML table (what a
    notebook shows), ``table.to_dataframe()`` a pandas DataFrame when pandas is
    installed, ``table.total(column)`` a column's sum and ``table[name]`` the row
    of that name.
    """

    def __init__(self, rows: Sequence[LayerCost] = (), *, count_bias: bool = True,
                 input_shape: Tuple[int, ...] = ()):
        super().__init__(rows)
        self.count_bias = count_bias
        self.input_shape = tuple(input_shape)

    def __getitem__(self, key):
        if isinstance(key, str):
            for row in self:
                if row.name == key:
                    return row
            raise KeyError(f"no layer named {key!r}; the names are {[r.name for r in self]}")
        out = super().__getitem__(key)
        return CostTable(out, count_bias=self.count_bias, input_shape=self.input_shape) \
            if isinstance(key, slice) else out

    def total(self, column: str) -> Optional[int]:
        """Sum of a numeric column (None if some row has no value there)."""
        if column not in ("units", "connections", "weights", "macs"):
            raise ValueError(f"column must be one of 'units', 'connections', 'weights', 'macs', "
                             f"got column={column!r}")
        values = [getattr(r, column) for r in self]
        return None if any(v is None for v in values) else int(sum(values))

    def rows(self) -> List[dict]:
        return [r.as_dict() for r in self]

    def to_dataframe(self):
        """A pandas DataFrame indexed by layer name (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError("to_dataframe needs pandas (pip install pandas); str(table) and "
                              "the notebook's HTML view work without it") from err
        frame = pd.DataFrame(self.rows()).set_index("name")
        frame["output_shape"] = frame["output_shape"].map(_shape_text)
        return frame

    def _cells(self) -> Tuple[List[str], List[List[str]]]:
        head = ["layer", "kind", "output", "units", "connections", "weights", "MACs"]
        body = [[r.name, r.kind, _shape_text(r.output_shape)]
                + [_num(getattr(r, c)) for c in ("units", "connections", "weights", "macs")]
                for r in self]
        body.append(["total", "", ""] + [_num(self.total(c)) for c in
                                         ("units", "connections", "weights", "macs")])
        return head, body

    def __str__(self) -> str:
        head, body = self._cells()
        widths = [max(len(row[i]) for row in [head] + body) for i in range(len(head))]
        fmt = lambda row: "  ".join(v.ljust(w) if i < 3 else v.rjust(w)
                                    for i, (v, w) in enumerate(zip(row, widths)))
        rule = "-" * len(fmt(head))
        lines = [fmt(head), rule] + [fmt(r) for r in body[:-1]] + [rule, fmt(body[-1])]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"CostTable({len(self)} layers, count_bias={self.count_bias})\n{self}"

    def _repr_html_(self) -> str:
        head, body = self._cells()
        th = "".join(f"<th style='text-align:{'left' if i < 3 else 'right'}'>{h}</th>"
                     for i, h in enumerate(head))
        trs = []
        for j, row in enumerate(body):
            style = " style='font-weight:bold;border-top:1px solid'" if j == len(body) - 1 else ""
            tds = "".join(f"<td style='text-align:{'left' if i < 3 else 'right'}'>{v}</td>"
                          for i, v in enumerate(row))
            trs.append(f"<tr{style}>{tds}</tr>")
        note = "biases counted" if self.count_bias else "biases not counted"
        return (f"<table><caption>per image of shape {_shape_text(self.input_shape)}, {note}"
                f"</caption><thead><tr>{th}</tr></thead><tbody>{''.join(trs)}</tbody></table>")


def _shape_text(shape) -> str:
    return " x ".join(str(s) for s in shape) if shape else "-"


def _num(v) -> str:
    return "?" if v is None else f"{v:,}"


# ----------------------------------------------------------------------------------------------
# per-kind counting

def _valid_taps(h: int, w: int, kernel, stride, dilation, pads) -> int:
    """Number of (output position, kernel tap) pairs that land inside an h x w input, not on padding.

    ``pads`` is (top, bottom, left, right); the count is a convolution of a mask
    (1 on the input, 0 on the padding) with a kernel of ones.
    """
    top, bottom, left, right = pads
    mask = torch.zeros(1, 1, h + top + bottom, w + left + right)
    mask[..., top:top + h, left:left + w] = 1
    kern = torch.ones(1, 1, *kernel)
    return int(round(float(F.conv2d(mask, kern, stride=stride, dilation=dilation).sum())))


def _conv_pads(module: nn.Conv2d) -> Tuple[int, int, int, int]:
    if module.padding == "valid":
        return (0, 0, 0, 0)
    if module.padding == "same":      # torch puts the odd pixel at the bottom/right
        th, tw = (module.dilation[i] * (module.kernel_size[i] - 1) for i in (0, 1))
        return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    ph, pw = module.padding
    return (ph, ph, pw, pw)


def _pair(v) -> Tuple[int, int]:
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _row(name: str, module: nn.Module, x: torch.Tensor, y: torch.Tensor,
         count_bias: bool) -> Optional[LayerCost]:
    out_shape = tuple(y.shape[1:])
    units = int(y[0].numel())
    b = 1 if count_bias else 0

    if isinstance(module, nn.Conv2d):
        # non-zero padding modes (reflect, ...) read real pixels: every tap is a connection
        pads = _conv_pads(module) if module.padding_mode == "zeros" else (0, 0, 0, 0)
        h, w = x.shape[2], x.shape[3]
        if module.padding_mode != "zeros":
            ph, pw = _conv_pads(module)[0::2]
            h, w = h + 2 * ph, w + 2 * pw
        per_out_map = _valid_taps(h, w, module.kernel_size, module.stride, module.dilation, pads)
        cin = module.in_channels // module.groups
        fan_in = cin * module.kernel_size[0] * module.kernel_size[1]
        has_bias = module.bias is not None
        connections = per_out_map * cin * module.out_channels + (units if has_bias and count_bias else 0)
        weights = module.weight.numel() + (module.bias.numel() * b if has_bias else 0)
        return LayerCost(name, "conv", out_shape, units, connections, weights, units * fan_in)

    if isinstance(module, PartialConv2d):
        k = module.kernel_size
        per_map_taps = _valid_taps(x.shape[2], x.shape[3], (k, k), 1, 1, (0, 0, 0, 0))
        n_kernels = len(module.in_index)
        has_bias = module.bias is not None
        positions = out_shape[1] * out_shape[2]
        connections = per_map_taps * n_kernels + (units if has_bias and count_bias else 0)
        weights = module.weight.numel() + (module.bias.numel() * b if has_bias else 0)
        return LayerCost(name, "partial conv", out_shape, units, connections, weights,
                         positions * n_kernels * k * k)

    if isinstance(module, UntiedConv2d):
        k, st = module.kernel_size, module.stride
        per_map_taps = _valid_taps(x.shape[2], x.shape[3], (k, k), st, 1, (0, 0, 0, 0))
        n_kernels = len(module.in_index)
        positions = out_shape[1] * out_shape[2]
        connections = per_map_taps * n_kernels + units * b         # one bias connection per unit
        weights = module.weight.numel() + module.bias.numel() * b
        return LayerCost(name, "conv, untied bias", out_shape, units, connections, weights,
                         positions * n_kernels * k * k)

    if isinstance(module, Subsampling2d):
        k = module.kernel_size
        connections = units * (k * k + b)
        weights = module.weight.numel() + module.bias.numel() * b
        return LayerCost(name, "subsampling", out_shape, units, connections, weights, units)

    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d, PaddedPool2d)):
        if isinstance(module, PaddedPool2d):
            kk, st, dil, pads = (module.kernel_size,) * 2, module.stride, 1, module.pad
            kind = f"{module.mode} pool"
        else:
            kk, st = _pair(module.kernel_size), _pair(module.stride or module.kernel_size)
            ph, pw = _pair(module.padding)
            dil, pads = _pair(getattr(module, "dilation", 1)), (ph, ph, pw, pw)
            kind = "max pool" if isinstance(module, nn.MaxPool2d) else "avg pool"
        if getattr(module, "ceil_mode", False):
            # ceil mode lets the last window hang over the bottom/right edge: pad with "nothing" there
            need = [(o - 1) * s + d * (k - 1) + 1 for o, s, d, k in zip(out_shape[1:], st, dil, kk)]
            extra_h = max(0, need[0] - (x.shape[2] + pads[0] + pads[1]))
            extra_w = max(0, need[1] - (x.shape[3] + pads[2] + pads[3]))
            pads = (pads[0], pads[1] + extra_h, pads[2], pads[3] + extra_w)
        per_map = _valid_taps(x.shape[2], x.shape[3], kk, st, dil, pads)
        connections = per_map * out_shape[0]
        return LayerCost(name, kind, out_shape, units, connections, 0, 0)

    if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        kind = "avg pool" if isinstance(module, nn.AdaptiveAvgPool2d) else "max pool"
        # torch's adaptive windows: rows floor(i H / out) to ceil((i + 1) H / out)
        spans = [sum(-(-(i + 1) * n // o) - (i * n) // o for i in range(o))
                 for n, o in zip(x.shape[2:], out_shape[1:])]
        return LayerCost(name, kind, out_shape, units, spans[0] * spans[1] * out_shape[0], 0, 0)

    if isinstance(module, nn.Linear):
        has_bias = module.bias is not None
        rows = units // module.out_features                 # positions, if the input has extra axes
        connections = units * (module.in_features + (b if has_bias else 0))
        weights = module.weight.numel() + (module.bias.numel() * b if has_bias else 0)
        return LayerCost(name, "linear", out_shape, units, connections, weights,
                         rows * module.out_features * module.in_features)

    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        affine = module.affine
        weights = (module.weight.numel() + module.bias.numel() * b) if affine else 0
        connections = units * (1 + (b if affine else 0))
        return LayerCost(name, "batch norm", out_shape, units, connections, weights, units)

    if isinstance(module, (nn.ZeroPad2d, nn.ConstantPad2d, nn.ReflectionPad2d, nn.ReplicationPad2d)):
        return LayerCost(name, "pad", out_shape, units, 0, 0, 0)

    own = sum(p.numel() for p in module.parameters(recurse=False))
    if own:   # a layer this table does not know: its weights still count, the rest is unknown
        return LayerCost(name, type(module).__name__, out_shape, units, None, own, None)
    return None


def layer_costs(model: nn.Module, input_shape: Sequence[int], *, count_bias: bool = True) -> CostTable:
    """One row per layer with weights or a change of spatial size, in forward order, from hooks.

    Parameters
    ----------
    model : nn.Module
        Any network; it is run once, in eval mode, on zeros (its mode is restored).
    input_shape : sequence of int
        (C, H, W) of one input image, or (1, C, H, W).
    count_bias : bool
        Count biases (and batch norm's beta) as weights and as one connection per
        unit. ``False`` gives Grosse's convention.

    Returns
    -------
    CostTable
        A list of :class:`LayerCost` (name, kind, output_shape, units,
        connections, weights, macs), numbers per image, with ``total(column)``
        and text/HTML/DataFrame views. With ``count_bias=True`` the weights add
        up to the model's parameter count.

    Examples
    --------
    >>> from course_lib.models import lenet5
    >>> table = layer_costs(lenet5("dense_c3"), (1, 32, 32), count_bias=False)
    >>> [(r.name, r.units, r.connections, r.weights) for r in table][:3]
    [('C1', 4704, 117600, 150), ('S2', 1176, 4704, 0), ('C3', 1600, 240000, 2400)]
    >>> table.total("connections"), table.total("weights")
    (422824, 61470)
    >>> layer_costs(lenet5(), (1, 32, 32))["C3"].connections
    151600
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}; pass e.g. "
                        f"course_lib.models.lenet5()")
    if not isinstance(count_bias, bool):
        raise TypeError(f"count_bias must be True or False, got {count_bias!r}")
    if not isinstance(input_shape, (tuple, list, torch.Size)):
        raise TypeError(f"input_shape must be a tuple (C, H, W), got {input_shape!r} of type "
                        f"{type(input_shape).__name__}; pass e.g. input_shape=(1, 28, 28)")
    shape = tuple(check_int(f"input_shape[{i}]", v, minimum=1) for i, v in enumerate(input_shape))
    if len(shape) == 4:
        if shape[0] != 1:
            raise ValueError(f"input_shape must describe one image, (C, H, W) or (1, C, H, W), got "
                             f"input_shape={shape}; drop the batch size")
        shape = shape[1:]
    if len(shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W), got input_shape={shape} with {len(shape)} "
                         f"entries; e.g. (1, 28, 28) for MNIST or (3, 32, 32) for CIFAR-10")

    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    names = {m: n for n, m in model.named_modules()}
    rows: List[LayerCost] = []

    def hook(module, inputs, output):
        if not isinstance(output, torch.Tensor) or not inputs or not isinstance(inputs[0], torch.Tensor):
            return
        row = _row(names.get(module, type(module).__name__), module, inputs[0], output, count_bias)
        if row is not None:
            rows.append(row)

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if len(list(m.children())) == 0]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, *shape, device=device, dtype=dtype))
    except RuntimeError as err:
        raise ValueError(f"the model cannot run on an input of shape {shape}: {err}. Check "
                         f"input_shape (C, H, W) against the model's first layer") from err
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return CostTable(rows, count_bias=count_bias, input_shape=shape)


def _check_model_shape(model, input_shape) -> Tuple[int, int, int]:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}; pass e.g. "
                        f"course_lib.models.lenet5()")
    if not isinstance(input_shape, (tuple, list, torch.Size)):
        raise TypeError(f"input_shape must be a tuple (C, H, W), got {input_shape!r} of type "
                        f"{type(input_shape).__name__}; pass e.g. input_shape=(3, 224, 224)")
    shape = tuple(check_int(f"input_shape[{i}]", v, minimum=1) for i, v in enumerate(input_shape))
    if len(shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W), got input_shape={shape}; e.g. (3, 224, 224)")
    return shape


def flop_counter_macs(model: nn.Module, input_shape: Sequence[int]) -> Dict[str, int]:
    """Multiply-adds per image as PyTorch's ``FlopCounterMode`` counts them: its FLOPs / 2.

    ``torch.utils.flop_counter.FlopCounterMode`` counts a multiply-add as 2
    floating-point operations and, for convolutions and matrix products, leaves
    biases out: so its FLOPs / 2 should equal the ``macs`` of the conv and
    linear rows of :func:`layer_costs`. An independent check of that table.

    Parameters
    ----------
    model : nn.Module
    input_shape : (C, H, W)

    Returns
    -------
    dict
        ``{"conv": ..., "linear": ..., "total": ...}`` multiply-adds (FLOPs / 2) for
        one image; ``total`` includes every operation the counter knows.

    Examples
    --------
    >>> flop_counter_macs(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 3)), (1, 4, 4))
    {'conv': 72, 'linear': 24, 'total': 96}
    """
    shape = _check_model_shape(model, input_shape)
    from torch.utils.flop_counter import FlopCounterMode

    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(torch.zeros(1, *shape, device=device))
    finally:
        model.train(was_training)
    per_op = counter.get_flop_counts().get("Global", {})
    conv = sum(v for op, v in per_op.items() if "convolution" in str(op))
    linear = sum(v for op, v in per_op.items() if "mm" in str(op))      # addmm, mm, bmm
    return {"conv": int(conv) // 2, "linear": int(linear) // 2, "total": int(counter.get_total_flops()) // 2}


def group_costs(table: CostTable, depth: int = 1, *, model: Optional[nn.Module] = None) -> CostTable:
    """Sum a cost table over blocks: rows whose names share their first ``depth`` dotted parts.

    Networks such as GoogLeNet (``inception3a.branch2.0.conv``) or ResNet
    (``layer1.0.conv1``) have dozens of layers; grouped by their first name part
    they read as one row per block.

    Parameters
    ----------
    table : CostTable
        From :func:`layer_costs`.
    depth : int
        How many leading parts of the dotted names form a group (>= 1).
    model : nn.Module, optional
        The model the table was made from. With it, each block's output shape
        is the block module's real output (an Inception block concatenates its
        branches); without it, the shape of the block's last row.

    Returns
    -------
    CostTable
        One row per group in forward order, kind ``"block"`` for groups of more
        than one row (or the row's own kind), and the columns summed (None
        where a summed row has None). ``units`` is summed over the block's
        layers (batch norm outputs included).

    Examples
    --------
    >>> t = layer_costs(nn.Sequential(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Conv2d(2, 2, 3)),
    ...                               nn.Conv2d(2, 1, 1)), (1, 6, 6))
    >>> [(r.name, r.weights) for r in group_costs(t)]
    [('0', 58), ('1', 3)]
    """
    if not isinstance(table, CostTable):
        raise TypeError(f"table must be a CostTable from layer_costs, got {type(table).__name__}")
    depth = check_int("depth", depth, minimum=1)
    groups: "Dict[str, List[LayerCost]]" = {}
    for row in table:
        key = ".".join(row.name.split(".")[:depth])
        groups.setdefault(key, []).append(row)

    def total(rows, col):
        values = [getattr(r, col) for r in rows]
        return None if any(v is None for v in values) else int(sum(values))

    shapes = {key: rows[-1].output_shape for key, rows in groups.items()}
    if model is not None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be the nn.Module the table was made from, got {type(model).__name__}")
        modules = dict(model.named_modules())
        handles = [modules[key].register_forward_hook(
            lambda m, i, o, key=key: shapes.__setitem__(key, tuple(o.shape[1:])))
            for key in groups if key in modules and isinstance(modules[key], nn.Module)]
        was_training = model.training
        param = next(model.parameters(), None)
        try:
            model.eval()
            with torch.no_grad():
                model(torch.zeros(1, *table.input_shape,
                                  device=param.device if param is not None else "cpu"))
        finally:
            for h in handles:
                h.remove()
            model.train(was_training)
    out = [LayerCost(key, rows[0].kind if len(rows) == 1 else "block", shapes[key],
                     total(rows, "units"), total(rows, "connections"), total(rows, "weights"),
                     total(rows, "macs"))
           for key, rows in groups.items()]
    return CostTable(out, count_bias=table.count_bias, input_shape=table.input_shape)


def layer_letters(table: CostTable) -> str:
    """The layer sequence of a cost table as letters: C conv, P pool, F fully connected.

    Written for the slides' pattern ``[(CONV-RELU)*N-POOL?]*M-(FC-RELU)*K``: a
    regular expression on this string says whether a *chain* of layers follows
    it. Other weighted layers (batch norm, ...) are left out; padding too.

    Examples
    --------
    >>> from course_lib.models import lenet5
    >>> layer_letters(layer_costs(lenet5("dense_c3"), (1, 32, 32)))
    'CPCPCFF'
    """
    if not isinstance(table, CostTable):
        raise TypeError(f"table must be a CostTable from layer_costs, got {type(table).__name__}")
    letters, previous = [], tuple(table.input_shape)
    for row in table:
        if "conv" in row.kind:
            letters.append("C")
        elif ("pool" in row.kind or row.kind == "subsampling") and row.output_shape != previous:
            letters.append("P")          # a pool that leaves the size unchanged (torchvision's adaptive) is skipped
        elif row.kind == "linear":
            letters.append("F")
        previous = row.output_shape
    return "".join(letters)


def is_chain(model: nn.Module, input_shape: Sequence[int]) -> bool:
    """True if every layer reads the output of the layer run just before it (no branches, no shortcuts).

    Runs the model once on zeros and follows the storage of each leaf module's
    input: in a chain it is the previous leaf's output (a view such as a flatten
    shares it). An Inception block (branches reading the same input) or a
    residual block with a projection shortcut breaks the chain.

    Examples
    --------
    >>> from course_lib.models import lenet5
    >>> is_chain(lenet5(), (1, 32, 32))
    True
    >>> class Twice(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.a, self.b = nn.Conv2d(1, 1, 1), nn.Conv2d(1, 1, 1)
    ...     def forward(self, x):
    ...         return self.a(x) + self.b(x)
    >>> is_chain(Twice(), (1, 4, 4))
    False
    """
    shape = _check_model_shape(model, input_shape)
    calls: List[Tuple[int, int]] = []

    def hook(module, inputs, output):
        if inputs and isinstance(inputs[0], torch.Tensor) and isinstance(output, torch.Tensor):
            calls.append((inputs[0].untyped_storage().data_ptr(), output.untyped_storage().data_ptr()))

    handles = [m.register_forward_hook(hook) for m in model.modules() if len(list(m.children())) == 0]
    was_training = model.training
    param = next(model.parameters(), None)
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *shape, device=param.device if param is not None else "cpu"))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return all(calls[i][0] == calls[i - 1][1] for i in range(1, len(calls)))
