"""Shared fixtures and hypothesis settings for the course_lib tests.

Every NumPy op is compared with torch in float64; the helpers here turn arrays
into float64 tensors and back, and draw the "int or (h, w) pair" arguments that
course_lib accepts like torch does.
"""
from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")   # before anything imports pyplot

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Hypothesis profiles, chosen with HYPOTHESIS_PROFILE:
#   "ci" (the default): derandomized, so every run draws the same examples and CI can never fail
#        by chance; no example database, so a clean clone and a developer's checkout behave alike.
#   "dev": random draws (a new seed each run) with the same counts, to look for new failures locally.
#   "thorough": random and ten times more examples; run it before a release.
# Moderate counts: the whole suite must stay well under a minute on 2 shared cores.
_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.register_profile("ci", max_examples=80, derandomize=True, database=None,
                          print_blob=True, **_COMMON)
settings.register_profile("dev", max_examples=80, **_COMMON)
settings.register_profile("thorough", max_examples=1000, print_blob=True, **_COMMON)
settings.register_profile("course", parent=settings.get_profile("ci"))   # the old name of "ci"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

def scaled(n: int) -> int:
    """A test's own example count, scaled with the active profile (x12.5 under "thorough").

    Use as ``@settings(max_examples=scaled(150))`` so that a test that asks for more or fewer
    examples than the default still gets more of them under HYPOTHESIS_PROFILE=thorough.
    """
    return max(1, round(n * settings.default.max_examples / 80))


# Reproducible torch on 2 shared cores; torch's CPU ops are tiny here anyway.
torch.set_num_threads(1)


def t64(a) -> torch.Tensor:
    """A NumPy array as a float64 torch tensor."""
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


@st.composite
def int_or_pair(draw, lo: int, hi: int):
    """Draw an argument in either accepted form; return (argument, (h, w))."""
    if draw(st.booleans()):
        v = draw(st.integers(lo, hi))
        return v, (v, v)
    h, w = draw(st.integers(lo, hi)), draw(st.integers(lo, hi))
    return (h, w), (h, w)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


# Values that must be rejected wherever an array of real numbers is expected.
BAD_DTYPE_ARRAYS = {
    "strings": lambda shape: np.full(shape, "a"),
    "bool": lambda shape: np.ones(shape, dtype=bool),
    "complex": lambda shape: np.ones(shape, dtype=np.complex128),
    "object": lambda shape: np.full(shape, None, dtype=object),
}


def stub(*args, **kwargs):
    """A student's untouched exercise function."""
    raise NotImplementedError("write your code here")


def problem(result) -> str:
    """The 'problem:' line of a failed check_function result."""
    lines = [d for d in result.details if d.strip().startswith("problem:")]
    assert lines, str(result)
    return lines[0]


def torch_shape(H, W, k, s, p, d, mode):
    """(H_out, W_out) that torch produces on zeros for one layer, or None when torch refuses.

    ``mode`` is "conv", "transposed", "pool-floor" or "pool-ceil" (the explorer's modes).
    """
    import torch.nn.functional as F
    x = torch.zeros(1, 1, H, W, dtype=torch.float64)
    w = torch.zeros(1, 1, k, k, dtype=torch.float64)
    try:
        if mode == "conv":
            y = F.conv2d(x, w, stride=s, padding=p, dilation=d)
        elif mode == "transposed":
            y = F.conv_transpose2d(x, w, stride=s, padding=p, dilation=d)
        else:
            y = F.max_pool2d(x, k, stride=s, padding=p, dilation=d, ceil_mode=mode == "pool-ceil")
    except RuntimeError:
        return None
    return tuple(y.shape[2:]) if min(y.shape[2:]) > 0 else None


@pytest.fixture(autouse=True)
def close_figures():
    """Close every matplotlib figure a test opened (the viz tests open many)."""
    yield
    import matplotlib.pyplot as plt
    plt.close("all")
