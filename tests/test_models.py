"""Keras model builders: architectures, parameter counts, seeded init, flat weights."""

import numpy as np
import pytest

from fedcore.config import ModelSpec
from fedcore.errors import ConfigError
from fedcore.models import (
    build_model,
    get_flat_weights,
    initial_flat_weights,
    param_layout,
    set_flat_weights,
)


@pytest.mark.parametrize("spec, input_shape, n_classes, expected", [
    (ModelSpec("logreg", ()), (20,), 3, 20 * 3 + 3),
    (ModelSpec("mlp", (8, 4)), (10,), 3, (10 * 8 + 8) + (8 * 4 + 4) + (4 * 3 + 3)),
    (ModelSpec("mlp", (200,)), (28, 28, 1), 10, 784 * 200 + 200 + 200 * 10 + 10),
    # 8x8 -> conv(same) 8x8x16 -> pool 4x4 -> conv 4x4x32 -> pool 2x2x32 = 128 -> 16 -> 3
    (ModelSpec("cnn", (16,)), (8, 8, 1), 3,
     (9 * 16 + 16) + (9 * 16 * 32 + 32) + (128 * 16 + 16) + (16 * 3 + 3)),
    # empty hidden: the CNN head has 64 units; 28 -> 14 -> 7: 7*7*32 = 1568 features
    (ModelSpec("cnn", ()), (28, 28), 10,
     (9 * 16 + 16) + (9 * 16 * 32 + 32) + (1568 * 64 + 64) + (64 * 10 + 10)),
])
def test_parameter_counts(spec, input_shape, n_classes, expected):
    model = build_model(spec, input_shape, n_classes, seed=0)
    assert model.count_params() == expected
    layout = param_layout(model)
    assert layout[-1][3] == expected
    assert [start for _, _, start, _ in layout[1:]] == [stop for _, _, _, stop in layout[:-1]]
    assert get_flat_weights(model).shape == (expected,)


def test_flat_input_and_logits_output():
    model = build_model(ModelSpec("cnn", (8,)), (8, 8, 1), 4, seed=1)
    x = np.random.default_rng(0).normal(size=(5, 64)).astype(np.float32)
    out = np.asarray(model(x))
    assert out.shape == (5, 4)
    # logits, not probabilities: rows do not sum to one and values may be negative
    assert not np.allclose(out.sum(axis=1), 1.0)
    assert (out < 0).any()


def test_same_seed_same_weights_different_seed_different():
    spec = ModelSpec("mlp", (16,))
    a = get_flat_weights(build_model(spec, (12,), 3, seed=5))
    b = get_flat_weights(build_model(spec, (12,), 3, seed=5))
    c = get_flat_weights(build_model(spec, (12,), 3, seed=6))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    model = build_model(spec, (12,), 3, seed=5)
    np.testing.assert_array_equal(initial_flat_weights(model, 5), a)


def test_glorot_limits_and_zero_biases():
    model = build_model(ModelSpec("mlp", (50,)), (30,), 4, seed=0)
    flat = get_flat_weights(model)
    for _name, shape, start, stop in param_layout(model):
        part = flat[start:stop]
        if len(shape) == 1:
            assert np.all(part == 0)
        else:
            limit = np.sqrt(6.0 / (shape[0] + shape[1]))
            assert np.abs(part).max() <= limit
            assert np.abs(part).max() > 0.8 * limit  # really spread over the range


def test_set_get_round_trip_and_order():
    model = build_model(ModelSpec("mlp", (6,)), (5,), 3, seed=0)
    flat = np.arange(model.count_params(), dtype=np.float32)
    set_flat_weights(model, flat)
    np.testing.assert_array_equal(get_flat_weights(model), flat)
    kernel = np.asarray(model.trainable_weights[0])
    np.testing.assert_array_equal(kernel, flat[:30].reshape(5, 6))
    with pytest.raises(ConfigError, match="needs"):
        set_flat_weights(model, flat[:-1])


def test_cnn_needs_image_shape():
    with pytest.raises(ConfigError, match="cnn"):
        build_model(ModelSpec("cnn", ()), (13,), 2)
    with pytest.raises(ConfigError, match="classes"):
        build_model(ModelSpec("logreg", ()), (13,), 1)
