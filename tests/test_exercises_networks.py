"""Exercise checks of chapters 8-9: right answers in every form pass, plausible wrong ones are named."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from conftest import problem, stub
from course_lib.exercises import core
from course_lib.exercises.networks import (check_block_sizes_32, check_bn_parameters, check_c3_costs,
                                           check_confusion_reading, check_model_choice, check_pool_sizes,
                                           check_top_images, check_topk_error, check_train_step)


@pytest.fixture(autouse=True)
def fresh_hints():
    core.reset_hints()


def text(result) -> str:
    return str(result)


# ----------------------------------------------------------------------------- predictions
@pytest.mark.parametrize("answer", [((28, 14, 10, 5, 2), 431_080), [[28, 14, 10, 5, 2], 431080.0],
                                    (np.array([28, 14, 10, 5, 2]), np.int64(431080))])
def test_block_sizes_32_accepts_every_form(answer):
    assert check_block_sizes_32(answer).passed


@pytest.mark.parametrize("answer, words", [(((24, 12, 8, 4, 1), 431_080), "28 x 28"),
                                           (((29, 15, 11, 6, 3), 431_080), "one too large"),
                                           (((32, 16, 16, 8, 8), 431_080), "padded")])
def test_block_sizes_32_names_mistakes_without_the_answer(answer, words):
    r = check_block_sizes_32(answer)
    assert r.status == core.FAIL and words in text(r)
    assert "14, 10, 5" not in text(r)


def test_c3_costs():
    assert check_c3_costs((1216, 121_600)).passed
    assert "biases are missing" in text(check_c3_costs((1200, 120_000)))
    assert "fully connected C3" in text(check_c3_costs((2416, 241_600)))
    r = check_c3_costs((1, 2))
    assert r.status == core.FAIL and "121" not in text(r)


def test_pool_sizes():
    assert check_pool_sizes(((16, 8, 4), (15, 7, 3))).passed
    assert check_pool_sizes([[16, 8, 4], [15, 7, 3]]).passed
    assert "fewer" in text(check_pool_sizes(((16, 8, 4), (16, 8, 4))))
    assert "swapped" in text(check_pool_sizes(((15, 7, 3), (16, 8, 4))))


def test_bn_parameters():
    assert check_bn_parameters((1_069_706, 1_408)).passed
    assert "buffers" in text(check_bn_parameters((1_071_114, 1_408)))
    assert "gamma and beta" in text(check_bn_parameters((1_068_298, 1_408)))
    assert "logits" in text(check_bn_parameters((1_069_726, 1_428)))


def test_stubs_are_not_attempted():
    for check in (check_block_sizes_32, check_c3_costs, check_pool_sizes, check_bn_parameters):
        assert check(...).status == core.NOT_ATTEMPTED
    for check in (check_train_step, check_topk_error, check_top_images):
        assert check(stub).status == core.NOT_ATTEMPTED


# ----------------------------------------------------------------------------- training step
def good_step(model, optimizer, images, labels):
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()
    return loss


def test_train_step_accepts_tensor_or_number_and_set_to_none():
    assert check_train_step(good_step).passed
    assert check_train_step(lambda m, o, x, y: good_step(m, o, x, y).item()).passed

    def other_order(model, optimizer, images, labels):
        loss = nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.item()
    assert check_train_step(other_order).passed


def test_train_step_names_mistakes():
    def no_zero(model, optimizer, images, labels):
        loss = nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    def no_step(model, optimizer, images, labels):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        return loss.item()

    def mse(model, optimizer, images, labels):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(images).softmax(1), nn.functional.one_hot(labels, 4).float())
        loss.backward()
        optimizer.step()
        return loss.item()

    assert "zero_grad" in text(check_train_step(no_zero))
    assert "never change" in text(check_train_step(no_step))
    assert "cross-entropy" in text(check_train_step(mse))
    assert "returned" in text(check_train_step(lambda m, o, x, y: (good_step(m, o, x, y), "x")))
    r = check_train_step(lambda m, o, x, y: 1 / 0)
    assert r.status == core.FAIL and "ZeroDivisionError" in text(r)


# ----------------------------------------------------------------------------- choices and readings
VAL = {"plain": [0.30, 0.20, 0.25], "momentum": [0.20, 0.15, 0.18]}
TRAIN = {"plain": [0.30, 0.10, 0.05], "momentum": [0.20, 0.10, 0.02]}


def test_model_choice():
    assert check_model_choice(("momentum", 2), VAL, TRAIN).passed
    assert check_model_choice(["momentum", np.int64(2)], VAL, TRAIN).passed
    assert "*training*" in text(check_model_choice(("momentum", 3), VAL, TRAIN))
    assert "epoch" in text(check_model_choice(("momentum", 1), VAL, TRAIN))
    assert "from 1 to 3" in text(check_model_choice(("momentum", 0), VAL, TRAIN))
    assert "not one of the variants" in text(check_model_choice(("adam", 1), VAL, TRAIN))


def test_confusion_reading():
    cm = np.array([[88, 3, 9], [2, 95, 3], [14, 1, 85]])
    assert check_confusion_reading((2, 0), cm).passed
    assert check_confusion_reading((2, 0), torch.tensor(cm)).passed
    assert "swapped" in text(check_confusion_reading((0, 2), cm))
    assert "diagonal" in text(check_confusion_reading((1, 1), cm))


# ----------------------------------------------------------------------------- functions
def test_topk_error():
    def good(logits, labels, k):
        top = np.argsort(-logits, axis=1)[:, :k]
        return (top != labels[:, None]).all(axis=1).mean()
    assert check_topk_error(good).passed

    def with_torch(logits, labels, k):
        top = torch.as_tensor(logits).topk(k, dim=1).indices
        return 1 - (top == torch.as_tensor(labels)[:, None]).any(dim=1).float().mean()
    assert check_topk_error(with_torch).passed
    assert "accuracy" in problem(check_topk_error(lambda l, y, k: 1 - good(l, y, k)))
    assert "SMALLEST" in problem(check_topk_error(lambda l, y, k: good(-l, y, k)))


def test_top_images():
    assert check_top_images(lambda s, u, n: np.argsort(-s[:, u])[:n]).passed
    assert check_top_images(lambda s, u, n: list(torch.as_tensor(s[:, u]).topk(n).indices.numpy())).passed
    assert "WEAKEST" in problem(check_top_images(lambda s, u, n: np.argsort(s[:, u])[:n]))
    assert "reversed" in problem(check_top_images(lambda s, u, n: np.argsort(s[:, u])[-n:]))
    assert "column" in problem(check_top_images(lambda s, u, n: np.argsort(-s[u, :])[:n]))
