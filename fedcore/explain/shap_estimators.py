"""SHAP estimators for cluster models, vectorised (one compiled gradient / numpy batches).

* expected gradients, the estimator of ``shap.GradientExplainer`` (Erion et al. 2021,
  "Improving performance of deep learning models with axiomatic attribution priors and
  expected gradients", Nature Machine Intelligence 3), for Keras models;
* antithetic permutation sampling, the estimator of ``shap.PermutationExplainer`` (Strumbelj &
  Kononenko 2014; Lundberg & Lee 2017, "A unified approach to interpreting model
  predictions", NeurIPS), for any ``predict_logits(X) -> (n, C)`` callable.
"""

from __future__ import annotations

import weakref

import numpy as np

from .model_predictors import as_model_input

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


def gradient_shap(model, background, explain, nsamples: int, seed: int):
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
