"""Keras model builders and flat-vector weight helpers.

Every model takes FLAT feature vectors ``(n, prod(input_shape))`` -- the layout in which
:class:`~fedcore.dataset.FederatedDataset` stores samples -- and returns LOGITS (no softmax),
or, for a regression task (one output), the prediction.
Image models start with a ``Reshape`` back to ``input_shape``.

Weights move between the server, the strategies and the engine as one flat float32 vector
whose order is ``model.trainable_weights`` (kernel then bias, layer by layer);
:func:`param_layout` says which slice is which tensor.

Initialisation is Glorot-uniform kernels and zero biases (Keras' defaults, Glorot & Bengio,
AISTATS 2010) drawn from ``numpy.random.default_rng(seed)``, so the same seed gives the
same weights without touching any global random state.
"""

from __future__ import annotations

import math

import keras
import numpy as np

from .config import ModelSpec
from .errors import ConfigError

#: Hidden width of the CNN's dense head when ``spec.hidden`` is empty.
CNN_DEFAULT_HEAD = 64


def _image_shape(input_shape: tuple[int, ...]) -> tuple[int, int, int]:
    """``(h, w, c)`` of an image input shape, or a ConfigError saying why it is not one."""
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 2:
        shape = (*shape, 1)
    if len(shape) != 3 or shape[0] < 4 or shape[1] < 4:
        raise ConfigError(
            f"the cnn model needs images of shape (height, width[, channels]) with sides >= 4; "
            f"this dataset has input shape {tuple(input_shape)} -- choose logreg or mlp")
    return shape


def build_model(spec: ModelSpec, input_shape: tuple, n_outputs: int,
                seed: int = 0, regression: bool = False) -> keras.Model:
    """Build the Keras model described by ``spec``.

    Parameters
    ----------
    spec : ModelSpec
        ``logreg``: Flatten + Dense(n_outputs). ``mlp``: Flatten + Dense(h, relu) for each
        ``h`` in ``spec.hidden`` + Dense(n_outputs). ``cnn``: Conv2D(16, 3, relu, same) -
        MaxPool(2) - Conv2D(32, 3, relu, same) - MaxPool(2) - Flatten -
        Dense(hidden[0] or 64, relu) - Dense(n_outputs).
    input_shape : tuple of int
        Shape of one sample (``(d,)`` or ``(h, w, c)``); the model input is the flat vector.
    n_outputs : int
        Number of classes (>= 2) of a classification task; must be 1 with ``regression``.
    seed : int
        Same seed, same initial weights.
    regression : bool
        One linear output named ``prediction`` (``logreg`` is then linear regression).

    Returns
    -------
    keras.Sequential
        Outputs logits of shape ``(n, n_outputs)`` (the prediction itself when 1).
    """
    input_shape = tuple(int(s) for s in input_shape)
    n_features = int(math.prod(input_shape))
    if n_features < 1 or (n_outputs != 1 if regression else n_outputs < 2):
        raise ConfigError(f"a model needs >= 1 feature and >= 2 classes (or one regression "
                          f"target; got input shape {input_shape}, {n_outputs} outputs)")
    layers: list = [keras.Input(shape=(n_features,), name="features")]
    if spec.kind == "cnn":
        image = _image_shape(input_shape)
        layers += [
            keras.layers.Reshape(image, name="image"),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1"),
            keras.layers.MaxPooling2D(2, name="pool1"),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2"),
            keras.layers.MaxPooling2D(2, name="pool2"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(spec.hidden[0] if spec.hidden else CNN_DEFAULT_HEAD,
                               activation="relu", name="dense1"),
        ]
    else:
        layers.append(keras.layers.Flatten(name="flatten"))
        if spec.kind == "mlp":
            layers += [keras.layers.Dense(h, activation="relu", name=f"dense{i + 1}")
                       for i, h in enumerate(spec.hidden)]
    layers.append(keras.layers.Dense(n_outputs, name="prediction" if regression
                                     else "logits"))
    model = keras.Sequential(layers, name=f"fedlens_{spec.kind}")
    set_flat_weights(model, initial_flat_weights(model, seed))
    return model


def initial_flat_weights(model: keras.Model, seed: int = 0) -> np.ndarray:
    """Glorot-uniform kernels, zero biases, drawn from ``default_rng(seed)`` (flat, float32)."""
    rng = np.random.default_rng(seed)
    parts = []
    for _name, shape, _, _ in param_layout(model):
        if len(shape) >= 2:
            receptive = int(math.prod(shape[:-2]))
            fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            parts.append(rng.uniform(-limit, limit, size=shape).astype(np.float32).ravel())
        else:
            parts.append(np.zeros(int(math.prod(shape)), dtype=np.float32))
    return np.concatenate(parts).astype(np.float32)


def param_layout(model: keras.Model) -> list[tuple[str, tuple[int, ...], int, int]]:
    """``(name, shape, start, stop)`` of every trainable tensor in the flat vector."""
    layout, start = [], 0
    for var in model.trainable_weights:
        shape = tuple(int(s) for s in var.shape)
        stop = start + int(math.prod(shape))
        layout.append((var.path, shape, start, stop))
        start = stop
    return layout


def get_flat_weights(model: keras.Model) -> np.ndarray:
    """All trainable weights concatenated in ``model.trainable_weights`` order, float32."""
    return np.concatenate([np.asarray(keras.ops.convert_to_numpy(v)).ravel()
                           for v in model.trainable_weights]).astype(np.float32)


def set_flat_weights(model: keras.Model, flat: np.ndarray) -> None:
    """Inverse of :func:`get_flat_weights` (raises ConfigError on a length mismatch)."""
    flat = np.asarray(flat, dtype=np.float32).ravel()
    layout = param_layout(model)
    n_params = layout[-1][3] if layout else 0
    if flat.size != n_params:
        raise ConfigError(f"weight vector has {flat.size} values, model {model.name} "
                          f"needs {n_params}")
    for var, (_, shape, start, stop) in zip(model.trainable_weights, layout):
        var.assign(flat[start:stop].reshape(shape))
