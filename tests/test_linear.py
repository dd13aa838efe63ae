"""Tests for course_lib.linear: the losses (vectorised, naive, torch), the classifier and its templates."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from course_lib.linear import (MulticlassHingeLoss, class_templates, linear_classifier,
                               multiclass_hinge_loss, multiclass_hinge_loss_naive, softmax,
                               softmax_cross_entropy, softmax_cross_entropy_naive)
from course_lib.training import TensorLoader, fit

from conftest import BAD_DTYPE_ARRAYS, t64


@st.composite
def scores_and_labels(draw, max_n: int = 12, max_k: int = 12, scale: float = 10.0):
    n = draw(st.integers(1, max_n))
    k = draw(st.integers(1, max_k))
    seed = draw(st.integers(0, 2 ** 31 - 1))
    rng = np.random.default_rng(seed)
    scores = scale * rng.standard_normal((n, k))
    if draw(st.booleans()):            # ties are common with rounded scores
        scores = np.round(scores)
    labels = rng.integers(0, k, n)
    return scores, labels


# ------------------------------------------------------------------------------ softmax

@given(scores_and_labels())
def test_softmax_matches_torch_and_sums_to_one(data):
    scores, _ = data
    p = softmax(scores)
    np.testing.assert_allclose(p, torch.softmax(t64(scores), dim=1).numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12, atol=1e-12)


def test_softmax_is_stable_and_shift_invariant():
    s = np.array([[1000.0, 1001.0, 999.0]])
    assert np.all(np.isfinite(softmax(s)))
    np.testing.assert_allclose(softmax(s), softmax(s - 1000.0), atol=1e-12)
    np.testing.assert_allclose(softmax(np.array([0.0, 0.0])), [0.5, 0.5], atol=1e-12)


# ------------------------------------------------------------------------------ cross-entropy

@given(scores_and_labels(), st.sampled_from(["mean", "sum", "none"]))
def test_cross_entropy_vectorised_naive_and_torch_agree(data, reduction):
    scores, labels = data
    fast = softmax_cross_entropy(scores, labels, reduction=reduction)
    slow = softmax_cross_entropy_naive(scores, labels, reduction=reduction)
    ref = F.cross_entropy(t64(scores), torch.as_tensor(labels), reduction=reduction).numpy()
    np.testing.assert_allclose(fast, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(slow, ref, rtol=1e-10, atol=1e-12)
    if reduction == "none":
        assert np.shape(fast) == (len(labels),)
    else:
        assert isinstance(fast, float) and isinstance(slow, float)


def test_cross_entropy_known_values():
    # a uniform guess over K classes costs log K; a confident right answer costs almost nothing
    assert math.isclose(softmax_cross_entropy(np.zeros((3, 10)), np.array([0, 4, 9])), math.log(10), abs_tol=1e-12)
    assert softmax_cross_entropy(np.array([[50.0, 0.0]]), np.array([0])) < 1e-20
    assert math.isclose(softmax_cross_entropy(np.array([[50.0, 0.0]]), np.array([1])), 50.0, rel_tol=1e-12, abs_tol=1e-12)


def test_cross_entropy_huge_scores_do_not_overflow():
    s = np.array([[1e4, -1e4, 0.0]])
    assert softmax_cross_entropy(s, np.array([0])) == 0.0
    assert math.isclose(softmax_cross_entropy_naive(s, np.array([1])), 2e4, abs_tol=1e-12)


# ------------------------------------------------------------------------------ hinge

@given(scores_and_labels(), st.sampled_from([0.0, 0.5, 1.0, 2.0]), st.sampled_from(["mean", "sum", "none"]))
def test_hinge_vectorised_naive_and_torch_agree(data, margin, reduction):
    scores, labels = data
    k = scores.shape[1]
    fast = multiclass_hinge_loss(scores, labels, margin, reduction=reduction)
    slow = multiclass_hinge_loss_naive(scores, labels, margin, reduction=reduction)
    # torch divides the sum over classes by K; the slides' loss does not
    ref = k * F.multi_margin_loss(t64(scores), torch.as_tensor(labels), margin=margin,
                                  reduction=reduction).numpy()
    np.testing.assert_allclose(fast, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(slow, ref, rtol=1e-10, atol=1e-12)


def test_hinge_worked_example():
    # true class 0 scores 3; class 1 beats it (5 - 3 + 1 = 3), class 2 is far below (-1 - 3 + 1 < 0)
    assert multiclass_hinge_loss(np.array([[3.0, 5.0, -1.0]]), np.array([0])) == 3.0
    # every wrong class at least `margin` below the true one: zero loss
    assert multiclass_hinge_loss(np.array([[5.0, 4.0, 0.0]]), np.array([0])) == 0.0
    # all scores equal: each of the K - 1 wrong classes costs exactly the margin
    assert multiclass_hinge_loss(np.zeros((2, 10)), np.array([0, 3]), margin=1.0) == 9.0


def test_hinge_one_class_is_zero():
    assert multiclass_hinge_loss(np.array([[2.0], [-1.0]]), np.array([0, 0])) == 0.0


@given(scores_and_labels(), st.sampled_from([0.5, 1.0]))
def test_hinge_module_matches_numpy_and_has_gradients(data, margin):
    scores, labels = data
    s = t64(scores).requires_grad_(True)
    loss = MulticlassHingeLoss(margin)(s, torch.as_tensor(labels))
    assert math.isclose(float(loss.detach()), multiclass_hinge_loss(scores, labels, margin), rel_tol=1e-10,
                        abs_tol=1e-12)
    loss.backward()
    assert s.grad is not None and s.grad.shape == s.shape
    ref = t64(scores).requires_grad_(True)
    (scores.shape[1] * F.multi_margin_loss(ref, torch.as_tensor(labels), margin=margin)).backward()
    np.testing.assert_allclose(s.grad.numpy(), ref.grad.numpy(), atol=1e-12)


def test_hinge_module_reductions_and_repr():
    s, y = torch.tensor([[3.0, 5.0, -1.0], [1.0, 0.5, 4.0]]), torch.tensor([0, 2])
    assert MulticlassHingeLoss(reduction="none")(s, y).tolist() == [3.0, 0.0]
    assert float(MulticlassHingeLoss(reduction="sum")(s, y)) == 3.0
    assert "margin=1.0" in repr(MulticlassHingeLoss())


# ------------------------------------------------------------------------------ argument checks

LOSSES = [softmax_cross_entropy, softmax_cross_entropy_naive, multiclass_hinge_loss,
          multiclass_hinge_loss_naive]


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("scores, labels, exc, words", [
    (np.zeros(3), np.array([0]), ValueError, "scores must be 2D"),
    (np.zeros((2, 3)), np.array([[0, 1]]), ValueError, "labels must be 1D"),
    (np.zeros((2, 3)), np.array([0]), ValueError, "one entry per row"),
    (np.zeros((2, 3)), np.array([0, 3]), ValueError, "0..2"),
    (np.zeros((2, 3)), np.array([-1, 0]), ValueError, "labels must be class indices"),
    (np.zeros((2, 3)), np.array([0.5, 1.0]), TypeError, "integer class indices"),
    (np.zeros((2, 0)), np.array([0, 0]), ValueError, "at least one class"),
    (np.array([[0.0, np.nan]]), np.array([0]), ValueError, "finite"),
    ("scores", np.array([0]), TypeError, "scores must be a NumPy array"),
])
def test_losses_reject_bad_arguments(loss, scores, labels, exc, words):
    with pytest.raises(exc, match=words):
        loss(scores, labels)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("kind", sorted(BAD_DTYPE_ARRAYS))
def test_losses_reject_bad_dtypes(loss, kind):
    with pytest.raises(TypeError, match="scores must hold real numbers"):
        loss(BAD_DTYPE_ARRAYS[kind]((2, 3)), np.array([0, 1]))


@pytest.mark.parametrize("loss", LOSSES)
def test_losses_reject_bad_reduction(loss):
    with pytest.raises(ValueError, match="reduction must be one of"):
        loss(np.zeros((1, 2)), np.array([0]), reduction="average")


def test_float_labels_that_are_whole_numbers_are_accepted():
    assert softmax_cross_entropy(np.zeros((2, 2)), np.array([0.0, 1.0])) == math.log(2)


def test_labels_may_be_tensors():
    assert multiclass_hinge_loss(torch.zeros(2, 3), torch.tensor([0, 1])) == 2.0


@pytest.mark.parametrize("fn", [multiclass_hinge_loss, multiclass_hinge_loss_naive, MulticlassHingeLoss])
@pytest.mark.parametrize("margin, exc", [(-1.0, ValueError), (float("inf"), ValueError),
                                         ("1", TypeError), (True, TypeError)])
def test_hinge_rejects_bad_margin(fn, margin, exc):
    with pytest.raises(exc, match="margin"):
        if fn is MulticlassHingeLoss:
            fn(margin)
        else:
            fn(np.zeros((1, 2)), np.array([0]), margin)


def test_hinge_module_rejects_bad_inputs():
    loss = MulticlassHingeLoss()
    with pytest.raises(ValueError, match="scores must be a 2D torch tensor"):
        loss(torch.zeros(3), torch.tensor([0]))
    with pytest.raises(ValueError, match="labels must be a torch tensor of shape"):
        loss(torch.zeros(2, 3), torch.tensor([0]))
    with pytest.raises(ValueError, match="reduction"):
        MulticlassHingeLoss(reduction="avg")


def test_softmax_rejects_bad_input():
    with pytest.raises(ValueError, match="scores must be 1D or 2D"):
        softmax(np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match="at least one class"):
        softmax(np.zeros((2, 0)))


# ------------------------------------------------------------------------------ classifier, templates

def test_linear_classifier_shapes_and_parameters():
    model = linear_classifier((3, 32, 32), 10)
    assert model(torch.zeros(4, 3, 32, 32)).shape == (4, 10)
    assert sum(p.numel() for p in model.parameters()) == 3 * 32 * 32 * 10 + 10


def test_linear_classifier_is_seeded_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = linear_classifier((1, 4, 4), 3, seed=5)
    after = torch.rand(1)
    assert torch.equal(before, after)                        # global stream untouched
    b = linear_classifier((1, 4, 4), 3, seed=5)
    c = linear_classifier((1, 4, 4), 3, seed=6)
    assert torch.equal(a[1].weight, b[1].weight)
    assert not torch.equal(a[1].weight, c[1].weight)


def test_linear_classifier_zero_init():
    model = linear_classifier((1, 4, 4), 3, zero_init=True)
    assert not model[1].weight.detach().any() and not model[1].bias.detach().any()
    assert torch.equal(model(torch.rand(2, 1, 4, 4)), torch.zeros(2, 3))
    with pytest.raises(TypeError, match="zero_init must be True or False"):
        linear_classifier((1, 4, 4), 3, zero_init=1)


def test_zero_init_keeps_constant_pixels_at_zero():
    # pixels that are 0 in every training image get no gradient, so their weights stay 0
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (64, 1, 4, 4), generator=g, dtype=torch.uint8)
    images[:, :, 0, :] = 0                                    # an always-empty top row
    labels = torch.randint(0, 2, (64,), generator=g)
    model = linear_classifier((1, 4, 4), 2, zero_init=True)
    fit(model, TensorLoader(images, labels, 16, device="cpu"), epochs=2, device="cpu", progress=False)
    t = class_templates(model, (1, 4, 4))
    assert np.all(t[:, :, 0, :] == 0) and np.any(t[:, :, 1:, :] != 0)


@pytest.mark.parametrize("args, exc, words", [
    (((1, 28), 0), ValueError, "num_classes must be >= 1"),
    (((1, 0, 28), 10), ValueError, r"input_shape\[1\] must be >= 1"),
    ((28, 10), TypeError, "input_shape must be a tuple"),
    (((1, 28.0), 10), TypeError, r"input_shape\[1\] must be an int"),
])
def test_linear_classifier_rejects_bad_arguments(args, exc, words):
    with pytest.raises(exc, match=words):
        linear_classifier(*args)


def test_class_templates_from_model_and_array():
    model = linear_classifier((3, 2, 4), 5, seed=1)
    t = class_templates(model, (3, 2, 4))
    assert t.shape == (5, 3, 2, 4)
    np.testing.assert_array_equal(t.reshape(5, -1), model[1].weight.detach().numpy())
    # template o, dotted with an image, is score o minus the bias
    x = torch.rand(1, 3, 2, 4)
    scores = model(x).detach().numpy()[0]
    np.testing.assert_allclose((t * x.numpy()).sum(axis=(1, 2, 3)) + model[1].bias.detach().numpy(),
                               scores, rtol=1e-5, atol=1e-6)
    assert class_templates(np.ones((2, 6)), [1, 2, 3]).shape == (2, 1, 2, 3)


def test_class_templates_rejects_bad_arguments():
    with pytest.raises(ValueError, match="has 6 values but weight has D=8"):
        class_templates(np.ones((2, 8)), (1, 2, 3))
    with pytest.raises(ValueError, match="without an nn.Linear"):
        class_templates(torch.nn.Conv2d(1, 1, 3), (1, 3, 3))
    with pytest.raises(ValueError, match="weight must be 2D"):
        class_templates(np.ones(6), (1, 2, 3))


# ------------------------------------------------------------------------------ training end to end

@pytest.mark.parametrize("loss_fn", [None, MulticlassHingeLoss()])
def test_linear_classifier_learns_a_separable_toy_problem(loss_fn):
    # class = which quadrant of a 4x4 image is bright: a linear classifier separates it perfectly
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 4, (400,), generator=g)
    images = torch.randint(0, 60, (400, 1, 4, 4), generator=g, dtype=torch.uint8)
    for q, (r, c) in enumerate([(0, 0), (0, 2), (2, 0), (2, 2)]):
        images[labels == q, :, r:r + 2, c:c + 2] = 255
    model = linear_classifier((1, 4, 4), 4, seed=0)
    loader = TensorLoader(images, labels, 50, shuffle=True, device="cpu")
    hist = fit(model, loader, epochs=15, lr=0.05, device="cpu", progress=False, loss_fn=loss_fn)
    assert hist.train_top1[-1] == 0.0
    assert hist.train_loss[-1] < hist.train_loss[0]
