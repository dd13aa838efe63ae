"""Synthetic signals, images as sequences, moving-digit videos, the loader, the 1D/3D models and their figures."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib import viz
from course_lib.models_nd import (CausalConv1d, causal_tcn, row_cnn1d, signal_cnn1d, video_cnn2plus1d,
                                  video_cnn3d)
from course_lib.sequences import (DIRECTIONS, SIGNAL_CLASSES, ArrayLoader, image_rows_as_sequence,
                                  moving_digits, synthetic_signals)
from course_lib.training import fit


def test_signals_are_balanced_seeded_and_hold_their_pattern():
    x, y, pos = synthetic_signals(400, 96, noise=0.3, seed=1)
    assert x.shape == (400, 1, 96) and x.dtype == torch.float32
    assert np.bincount(y.numpy()).tolist() == [100] * len(SIGNAL_CLASSES)
    x2, y2, pos2 = synthetic_signals(400, 96, noise=0.3, seed=1)
    assert torch.equal(x, x2) and torch.equal(y, y2) and torch.equal(pos, pos2)
    assert not torch.equal(x, synthetic_signals(400, 96, noise=0.3, seed=2)[0])
    clean, yc, pc = synthetic_signals(40, 96, noise=0.0, seed=3)
    for i in range(40):
        s, c, p = clean[i, 0].numpy(), int(yc[i]), int(pc[i])
        if c == 0:
            assert p == -1 and np.all(s == 0)
        elif c == 1:
            assert int(np.argmax(s)) == p and s.max() == pytest.approx(1.0)
        elif c == 2:
            assert abs(s.sum()) < 1.0 and np.abs(s).max() > 0.5 and abs(int(np.argmax(np.abs(s))) - p) <= 2
        else:
            assert np.all(s[:p] == 0) and np.all(s[p:] == 1)
    noise = x[y == 0]
    assert float(noise.std()) == pytest.approx(0.3, rel=0.05)


def test_rows_as_sequence():
    imgs = torch.randint(0, 256, (5, 1, 28, 28), dtype=torch.uint8)
    seq = image_rows_as_sequence(imgs)
    assert seq.shape == (5, 28, 28) and seq.dtype == torch.uint8
    assert torch.equal(seq[:, :, 7], imgs[:, 0, 7, :])        # time step 7 = row 7, channels = columns
    with pytest.raises(ValueError, match="one grey channel"):
        image_rows_as_sequence(torch.zeros(2, 3, 4, 4))


def test_moving_digits_move_in_the_labelled_direction():
    digits = torch.zeros(5, 1, 28, 28, dtype=torch.uint8)
    digits[:, :, 8:20, 10:18] = 200
    v, d, which = moving_digits(digits, 40, frames=6, size=40, speed=(1, 2), seed=0)
    assert v.shape == (40, 1, 6, 40, 40) and v.dtype == torch.uint8
    assert np.bincount(d.numpy()).tolist() == [10] * 4
    step = {0: (0, 1), 1: (0, -1), 2: (1, 0), 3: (-1, 0)}
    for i in range(40):
        mass = [v[i, 0, t].float().sum() for t in range(6)]
        assert all(float(m) == pytest.approx(float(mass[0])) for m in mass)     # never leaves the frame
        r0, c0 = torch.nonzero(v[i, 0, 0])[0].tolist()
        r1, c1 = torch.nonzero(v[i, 0, -1])[0].tolist()
        dr, dc = step[int(d[i])]
        assert np.sign(r1 - r0) == dr and np.sign(c1 - c0) == dc
    v2, d2, w2 = moving_digits(digits, 40, frames=6, size=40, seed=0)
    assert torch.equal(v, v2) and torch.equal(d, d2)
    small, _, _ = moving_digits(digits, 4, frames=4, size=20, digit_size=14, seed=0)
    assert small.shape == (4, 1, 4, 20, 20)
    with pytest.raises(ValueError, match="size=30 is too small"):
        moving_digits(digits, 4, frames=6, size=30, speed=(1, 2))
    assert DIRECTIONS == ("right", "left", "down", "up")


def test_array_loader_scales_uint8_and_shuffles_with_the_seed():
    x = torch.arange(10, dtype=torch.uint8).reshape(10, 1, 1, 1, 1) * 25
    y = torch.arange(10)
    batches = list(ArrayLoader(x, y, 4))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert batches[0][0].dtype == torch.float32 and float(batches[-1][0].max()) == pytest.approx(225 / 255)
    order1 = torch.cat([b[1] for b in ArrayLoader(x, y, 3, shuffle=True, seed=5)])
    order2 = torch.cat([b[1] for b in ArrayLoader(x, y, 3, shuffle=True, seed=5)])
    assert torch.equal(order1, order2) and sorted(order1.tolist()) == list(range(10))
    with pytest.raises(ValueError, match="y must be a 1D"):
        ArrayLoader(x, y[:3])


def test_models_shapes_seeds_and_causality():
    assert signal_cnn1d(seed=0)(torch.zeros(3, 1, 64)).shape == (3, 4)
    assert row_cnn1d(seed=0)(torch.zeros(3, 28, 28)).shape == (3, 10)
    assert causal_tcn(seed=0)(torch.zeros(3, 28, 28)).shape == (3, 10)
    for make in (video_cnn3d, video_cnn2plus1d):
        assert make(seed=0)(torch.zeros(2, 1, 6, 24, 24)).shape == (2, 4)
    a, b = video_cnn3d(seed=4), video_cnn3d(seed=4)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    # the TCN's last output depends on the last 1 + sum(dilations) rows only
    net = causal_tcn(seed=0, dilations=(1, 1, 1)).double()
    x = torch.randn(1, 28, 28, dtype=torch.float64)
    x2 = x.clone()
    x2[..., :28 - 4] += 1.0                       # field is 4 steps: changing earlier steps changes nothing
    torch.testing.assert_close(net(x), net(x2))
    x2[..., 28 - 4] += 1.0
    assert not torch.allclose(net(x), net(x2))
    with pytest.raises(ValueError, match="temporal must be odd"):
        video_cnn3d(temporal=2)
    with pytest.raises(TypeError, match="dilations"):
        causal_tcn(dilations=4)
    assert isinstance(CausalConv1d(1, 1, 3), torch.nn.Conv1d)


def test_a_1d_network_learns_the_signal_patterns():
    torch.manual_seed(0)
    x, y, _ = synthetic_signals(512, 64, noise=0.2, seed=0)
    model = signal_cnn1d(seed=0)
    h = fit(model, ArrayLoader(x, y, 32, shuffle=True), epochs=6, lr=3e-3, device="cpu", progress=False)
    assert h.train_top1[-1] < 0.2 < h.train_top1[0]


def test_figures():
    x, y, pos = synthetic_signals(16, 64, seed=0)
    assert len(viz.plot_signals(x, y, SIGNAL_CLASSES, position=pos).axes) == 4
    assert len(viz.plot_signal_responses(x[0, 0], np.zeros((3, 60)), ["a", "b", "c"]).axes) == 4
    assert "sees 8 inputs" in viz.plot_causal_stack(2, [1, 2, 4]).axes[0].get_title()
    v = torch.zeros(3, 1, 4, 8, 8, dtype=torch.uint8)
    assert len(viz.show_video_frames(v, torch.tensor([0, 1, 2]), DIRECTIONS).axes) == 12
    live = viz.LivePlot({"loss": "loss", "error": "error"}, display=False)
    live.update(1, loss={"train": 1.0}, error={"train": 0.5})
    live.close()
    assert len(live.figure().axes) == 2
    with pytest.raises(ValueError, match="unknown panel"):
        live.update(2, accuracy={"train": 1.0})
    import matplotlib.pyplot as plt
    plt.close("all")
