"""What each cluster model looks at: SHAP attributions of every cluster model on its clients' data.

Cluster models are explained on held-out (test) samples of the clients assigned to them; a
reference model (e.g. FedAvg) is explained on every client's test samples, so its bars sit next
to the cluster models'. Attributions are computed on the LOGIT of the predicted class (never on
softmax outputs, whose saturation hides features):

* ``gradient``: expected gradients, the estimator of ``shap.GradientExplainer`` (Erion et al.
  2021, "Improving performance of deep learning models with axiomatic attribution priors and
  expected gradients", Nature Machine Intelligence 3), vectorised in one compiled TensorFlow
  gradient per model architecture (see :func:`_gradient_shap`), for Keras models;
* ``permutation``: model-agnostic Shapley values by antithetic permutation sampling (the
  estimator of ``shap.PermutationExplainer``; Strumbelj & Kononenko 2014; Lundberg & Lee 2017,
  "A unified approach to interpreting model predictions", NeurIPS), for any
  ``predict_logits(X) -> (n, C)`` callable; see :func:`permutation_shapley`. Cost grows with
  the number of features.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import numpy as np
import pandas as pd

from ..dataset import FederatedDataset
from ..errors import ConfigError
from ..results import SimulationResult

METHODS = ("gradient", "permutation")
NOISE = -1


def _pool(arrays: list[np.ndarray], members: np.ndarray) -> np.ndarray:
    chosen = [np.asarray(arrays[i], dtype=np.float32) for i in members if len(arrays[i])]
    return np.concatenate(chosen) if chosen else np.empty((0, 0), np.float32)


def _sample(X: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    if len(X) <= n:
        return X
    return X[np.sort(rng.choice(len(X), size=n, replace=False))]


def keras_model_factory(dataset: FederatedDataset, result: SimulationResult,
                        engine_or_model_builder, seed: int) -> Callable[[np.ndarray], object]:
    """flat weights -> Keras model (logits), from an engine, a builder or the model spec."""
    if engine_or_model_builder is not None and hasattr(engine_or_model_builder, "keras_model"):
        return engine_or_model_builder.keras_model
    if callable(engine_or_model_builder):
        return engine_or_model_builder
    from ..config import ModelSpec
    from ..models import build_model, set_flat_weights

    model = build_model(ModelSpec(**result.model_spec), dataset.input_shape,
                        dataset.n_classes, seed)

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


_GRADIENT_FUNCTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: Floats of interpolated inputs per gradient call (memory bound of expected gradients).
MAX_GRADIENT_FLOATS = 2**23


def _target_gradient_fn(model):
    """``(points (m, d), delta (m, d), target (m,)) -> grad of target logit * delta``, compiled
    ONCE per Keras model: reloading other weights into the same model (``set_flat_weights``
    assigns in place) reuses the trace, so explaining K cluster models costs one trace."""
    fn = _GRADIENT_FUNCTIONS.get(model)
    if fn is not None:
        return fn
    import tensorflow as tf

    try:
        shape = tuple(model.input_shape)
    except (AttributeError, ValueError):
        shape = (None,)
    reshape = len(shape) > 2 and None not in shape[1:]
    model_ref = weakref.ref(model)  # the cache must not keep the model alive

    @tf.function(reduce_retracing=True)
    def fn(points, delta, target):
        with tf.GradientTape() as tape:
            tape.watch(points)
            inputs = tf.reshape(points, (-1, *shape[1:])) if reshape else points
            logits = model_ref()(inputs, training=False)
            chosen = tf.gather(logits, target, axis=1, batch_dims=1)
        grads = tape.gradient(chosen, points)
        return grads * delta

    _GRADIENT_FUNCTIONS[model] = fn
    return fn


def _gradient_shap(model, background, explain, nsamples: int, seed: int):
    """Expected gradients of the top-logit class (the estimator of ``shap.GradientExplainer``
    with ``ranked_outputs=1``; Erion et al. 2021), vectorised: for every explained row ``x``,
    ``nsamples`` pairs of a background row ``b`` and ``t ~ U(0, 1)`` give
    ``phi(x) = mean[grad f_c(b + t (x - b)) * (x - b)]`` with ``c`` the class of the largest
    logit at ``x``. All rows and samples go through one compiled gradient call per chunk
    (shap's own loop traces a new TensorFlow function per explainer and calls it once per
    row, 10x slower for a handful of cluster models). Draws from ``default_rng(seed)``; the
    global numpy state is left alone.
    """
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    background = np.asarray(background, dtype=np.float32).reshape(len(background), -1)
    explain = np.asarray(explain, dtype=np.float32).reshape(len(explain), -1)
    n, d = explain.shape
    if n == 0 or len(background) == 0:
        return np.zeros((n, d))
    nsamples = max(1, int(nsamples))
    logits = np.asarray(model(as_model_input(model, explain), training=False))
    target = logits.argmax(axis=1).astype(np.int32)
    ref = rng.integers(0, len(background), size=(n, nsamples))
    t = rng.uniform(size=(n, nsamples, 1)).astype(np.float32)
    fn = _target_gradient_fn(model)
    rows_per_call = max(1, MAX_GRADIENT_FLOATS // max(1, nsamples * d))
    phi = np.empty((n, d))
    for lo in range(0, n, rows_per_call):
        hi = min(n, lo + rows_per_call)
        base = background[ref[lo:hi]]                      # (m, ns, d)
        delta = explain[lo:hi, None, :] - base
        points = base + t[lo:hi] * delta
        out = fn(tf.constant(points.reshape(-1, d)), tf.constant(delta.reshape(-1, d)),
                 tf.constant(np.repeat(target[lo:hi], nsamples)))
        phi[lo:hi] = np.asarray(out).reshape(hi - lo, nsamples, d).mean(axis=1)
    return phi


def permutation_shapley(predict, background: np.ndarray, explain: np.ndarray,
                        n_permutations: int = 10, seed: int = 0,
                        max_floats: int = 2**24) -> np.ndarray:
    """Shapley values of each row's predicted-class output by permutation sampling.

    The estimator of ``shap.PermutationExplainer`` (Strumbelj & Kononenko 2014, "Explaining
    prediction models and individual predictions with feature contributions", Knowledge and
    Information Systems 41) with antithetic permutations and an independent (background)
    masker, vectorised in numpy: shap's own version JIT-compiles numba code for 5-30 s in every
    new process, which the UI cannot afford. Exact for additive (e.g. linear logit) models.

    Parameters
    ----------
    predict : callable
        ``predict(X (m, d)) -> (m, C)`` logits.
    background : ndarray (B, d)
        Values a "missing" feature takes (averaged over).
    explain : ndarray (n, d)
    n_permutations : int
        Rounded up to an even number (each permutation is also used reversed).
    max_floats : int
        Upper bound on the size of one batch of masked rows (memory).

    Returns
    -------
    ndarray (n, d)
    """
    rng = np.random.default_rng(seed)
    explain = np.asarray(explain, dtype=np.float32)
    background = np.asarray(background, dtype=np.float32)
    n, d = explain.shape
    n_bg = len(background)
    predicted = np.asarray(predict(explain)).argmax(axis=1)
    steps = np.arange(d + 1)[None, :, None]
    phi = np.zeros((n, d))
    n_pairs = max(1, (n_permutations + 1) // 2)
    # Rows are built for several explained samples at once (few, large model calls).
    per_sample = (d + 1) * n_bg
    group = max(1, max_floats // (per_sample * d))
    for _ in range(n_pairs):
        perms = np.argsort(rng.random((n, d)), axis=1)
        for orders in (perms, perms[:, ::-1]):
            position = np.empty_like(orders)
            np.put_along_axis(position, orders, np.arange(d)[None, :], axis=1)
            for lo in range(0, n, group):
                idx = np.arange(lo, min(n, lo + group))
                mask = position[idx][:, None, :] < steps  # (m, d+1, d): step t reveals t
                rows = np.where(mask[:, :, None, :], explain[idx][:, None, None, :],
                                background[None, None]).reshape(-1, d)
                out = np.asarray(predict(rows)).reshape(len(idx), d + 1, n_bg, -1)
                value = out[np.arange(len(idx)), :, :, predicted[idx]].mean(axis=2)
                gains = np.diff(value, axis=1)  # (m, d): gain of the t-th revealed feature
                contrib = np.zeros((len(idx), d))
                np.put_along_axis(contrib, orders[idx], gains, axis=1)
                phi[idx] += contrib
    return phi / (2 * n_pairs)


def _attribution_rows(name: str, values: np.ndarray, features: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({"model": name, "feature": features,
                          "feature_index": np.arange(len(features)),
                          "mean_abs_shap": np.abs(values).mean(axis=0)})
    frame = frame.sort_values(["mean_abs_shap", "feature"], ascending=[False, True])
    frame["rank"] = np.arange(1, len(frame) + 1)
    return frame


def cluster_model_attributions(dataset: FederatedDataset, result: SimulationResult | None = None,
                               engine_or_model_builder=None, n_background: int = 50,
                               n_explain: int = 100, seed: int = 0, method: str = "gradient",
                               reference_models: dict[str, np.ndarray] | None = None,
                               predictors: dict | None = None, labels=None,
                               nsamples: int = 50, n_permutations: int = 10) -> pd.DataFrame:
    """Mean |SHAP| of each cluster model's predicted-class logit, per input feature.

    Parameters
    ----------
    dataset : FederatedDataset
    result : SimulationResult, optional
        Source of the cluster models (``result.models``), the model spec and the assignments.
    engine_or_model_builder : optional
        An engine with ``keras_model(flat)``, or a callable ``flat -> keras.Model``; default
        builds from ``result.model_spec`` with :func:`fedcore.models.build_model`.
    n_background, n_explain : int
        Background samples (from all clients' train data) and explained samples per model.
    seed : int
    method : {"gradient", "permutation"}
        ``gradient`` needs Keras models; plain callables always use ``permutation``.
    reference_models : dict of str to flat weights, optional
        E.g. ``{"FedAvg": w}``; explained on all clients' test data.
    predictors : dict, optional
        Instead of flat weights: ``{cluster_int: predict_logits, "name": predict_logits}``,
        each ``predict_logits(X (n, d)) -> (n, C)``. Int keys are cluster models.
    labels : array-like of int, optional
        Cluster of each client; default ``result.assignments`` (the clusters the models
        were trained for).
    nsamples : int
        Expected-gradients samples per explained row (``gradient`` only).
    n_permutations : int
        Feature permutations per explained row (``permutation`` only).

    Returns
    -------
    DataFrame
        ``model, feature, feature_index, mean_abs_shap, rank`` with model ``"cluster k"`` or
        the reference name; ``feature_index`` is the position in ``dataset.feature_names``
        (pixel maps).
        ``attrs["method"]`` records the method actually used.
    """
    if method not in METHODS:
        raise ConfigError(f"unknown attribution method {method!r}; choose gradient or permutation")
    if labels is None:
        if result is None:
            raise ConfigError("cluster model attributions need labels or a simulation result")
        labels = result.assignments
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    all_clients = np.flatnonzero(labels != NOISE) if (labels != NOISE).any() else np.arange(
        len(labels))
    background = _sample(_pool(dataset.x_train, np.arange(dataset.n_clients)), n_background, rng)
    test_or_train = [xt if len(xt) else xr for xt, xr in zip(dataset.x_test, dataset.x_train)]

    jobs: list[tuple[str, np.ndarray, object, bool]] = []  # name, members, model, is_keras
    if predictors:
        for key, fn in predictors.items():
            members = np.flatnonzero(labels == key) if isinstance(key, int | np.integer) else \
                all_clients
            name = f"cluster {key}" if isinstance(key, int | np.integer) else str(key)
            jobs.append((name, members, fn, False))
    else:
        if result is None:
            raise ConfigError("cluster model attributions need a result or predictors")
        factory = keras_model_factory(dataset, result, engine_or_model_builder, seed)
        for k in sorted(result.models):
            jobs.append((f"cluster {k}", np.flatnonzero(labels == k), result.models[k], True))
        for name, flat in (reference_models or {}).items():
            jobs.append((str(name), all_clients, flat, True))

    used = method
    frames = []
    for name, members, model, is_keras in jobs:
        explain = _sample(_pool(test_or_train, members), n_explain, rng)
        if len(explain) == 0:
            continue
        if is_keras:
            keras_model = factory(model)
            if method == "gradient":
                values = _gradient_shap(keras_model, background, explain, nsamples, seed)
            else:
                def predict(X, m=keras_model):
                    return np.asarray(m(as_model_input(m, np.asarray(X, np.float32))))

                values = permutation_shapley(predict, background, explain, n_permutations, seed)
        else:
            used = "permutation"
            values = permutation_shapley(model, background, explain, n_permutations, seed)
        frames.append(_attribution_rows(name, values, list(dataset.feature_names)))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["model", "feature", "feature_index", "mean_abs_shap", "rank"])
    out.attrs["method"] = used
    return out
