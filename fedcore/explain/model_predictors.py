"""Predict with the cluster models of a result: numpy for dense models, Keras otherwise.

Shared by the explainers that run the cluster models (:mod:`.model_attributions`,
:mod:`.disagreement`): a ``logreg``/``mlp`` model predicts straight from its flat weights in
numpy (no TensorFlow import), any other model is rebuilt once from ``result.model_spec`` and
reloaded with each cluster's weights.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..dataset import FederatedDataset
from ..results import SimulationResult

BATCH_ROWS = 1024


def keras_model_factory(dataset: FederatedDataset, result: SimulationResult,
                        engine_or_model_builder, seed: int) -> Callable[[np.ndarray], object]:
    """flat weights -> Keras model (logits), from an engine, a builder or the model spec."""
    if engine_or_model_builder is not None and hasattr(engine_or_model_builder, "keras_model"):
        return engine_or_model_builder.keras_model
    if callable(engine_or_model_builder):
        return engine_or_model_builder
    from ..config import ModelSpec
    from ..models import build_model, set_flat_weights

    regression = getattr(dataset, "is_regression", False)
    model = build_model(ModelSpec(**result.model_spec), dataset.input_shape,
                        1 if regression else dataset.n_classes, seed, regression=regression)

    def load(flat: np.ndarray):
        set_flat_weights(model, flat)
        return model

    return load


def as_model_input(model, X: np.ndarray) -> np.ndarray:
    """Reshape flat rows to the batch shape the Keras model expects (FedLens: flat already)."""
    try:
        shape = tuple(model.input_shape)
    except (AttributeError, ValueError):
        return X
    if len(shape) > 1 and None not in shape[1:]:
        return X.reshape(-1, *shape[1:])
    return X


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def keras_predictor(model) -> Callable[[np.ndarray], np.ndarray]:
    """``X -> logits`` of a Keras model, in batches of ``BATCH_ROWS`` rows."""
    def predict(X: np.ndarray) -> np.ndarray:
        out = [np.asarray(model(as_model_input(model, X[lo:lo + BATCH_ROWS]), training=False))
               for lo in range(0, len(X), BATCH_ROWS)]
        return np.concatenate(out) if out else np.empty((0, 0), np.float32)

    return predict


def dense_layer_sizes(result: SimulationResult, n_features: int,
                      n_classes: int) -> list[int] | None:
    """Layer widths of a ``logreg``/``mlp`` result model; None for other kinds."""
    spec = result.model_spec or {}
    kind, hidden = spec.get("kind"), [int(h) for h in (spec.get("hidden") or ())]
    if kind == "logreg":
        return [n_features, n_classes]
    if kind == "mlp":
        return [n_features, *hidden, n_classes]
    return None


def dense_predictor(result: SimulationResult, flat: np.ndarray, n_features: int,
                    n_classes: int) -> Callable[[np.ndarray], np.ndarray] | None:
    """Logits of a ``logreg``/``mlp`` model straight from its flat weights, in numpy.

    Same layout as :func:`fedcore.models.get_flat_weights` (per Dense layer: kernel
    ``(in, out)`` row-major, then bias; ReLU between layers). Saves importing TensorFlow
    and building a Keras model just to predict (the Explain page without SHAP). None for
    other models (``cnn``) or when the weight count does not match.
    """
    sizes = dense_layer_sizes(result, n_features, n_classes)
    flat = np.asarray(flat, dtype=np.float32).ravel()
    if sizes is None or flat.size != sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:])):
        return None
    layers, start = [], 0
    for a, b in zip(sizes[:-1], sizes[1:]):
        W = flat[start:start + a * b].reshape(a, b)
        bias = flat[start + a * b:start + a * b + b]
        layers.append((W, bias))
        start += a * b + b

    def predict(X: np.ndarray) -> np.ndarray:
        h = np.asarray(X, dtype=np.float32).reshape(len(X), -1)
        for i, (W, bias) in enumerate(layers):
            h = h @ W + bias
            if i < len(layers) - 1:
                h = np.maximum(h, 0.0)
        return h

    return predict


def probabilities(predict, X: np.ndarray, n_classes: int) -> np.ndarray:
    """Softmax of ``predict(X)``, checked to be ``(len(X), n_classes)`` logits."""
    logits = np.asarray(predict(X), dtype=np.float64)
    if logits.ndim != 2 or logits.shape[0] != len(X):
        raise ValueError(f"a cluster model returned shape {logits.shape} for {len(X)} inputs")
    if logits.shape[1] != n_classes:
        raise ValueError(f"a cluster model returned {logits.shape[1]} classes; the data has "
                         f"{n_classes}")
    return softmax(logits)
