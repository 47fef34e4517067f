"""What each cluster model looks at: SHAP attributions of every cluster model on its clients' data.

Cluster models are explained on held-out (test) samples of the clients assigned to them; a
reference model (e.g. FedAvg) is explained on every client's test samples, so its bars sit next
to the cluster models'. Attributions are computed on the LOGIT of the predicted class (never on
softmax outputs, whose saturation hides features). A regression model has one output, the
prediction itself, and that is what is explained (no class is selected). The model predicts
the STANDARDISED target (``dataset.target_scale``); its attributions are multiplied by the
target's std so they read in the target's own units (SHAP values are linear in the output and
the mean shift cancels); ``attrs["output"]`` says which output was explained, in which units:

* ``gradient``: expected gradients, the estimator of ``shap.GradientExplainer`` (Erion et al.
  2021, "Improving performance of deep learning models with axiomatic attribution priors and
  expected gradients", Nature Machine Intelligence 3), vectorised in one compiled TensorFlow
  gradient per model architecture (see
  :func:`~fedcore.explain.shap_estimators.gradient_shap`), for Keras models;
* ``permutation``: model-agnostic Shapley values by antithetic permutation sampling (the
  estimator of ``shap.PermutationExplainer``; Strumbelj & Kononenko 2014; Lundberg & Lee 2017,
  "A unified approach to interpreting model predictions", NeurIPS), for any
  ``predict_logits(X) -> (n, C)`` callable; see :func:`permutation_shapley`. Cost grows with
  the number of features.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..dataset import FederatedDataset
from ..errors import ConfigError
from ..results import SimulationResult
from .model_predictors import as_model_input, keras_model_factory
from .shap_estimators import gradient_shap, permutation_shapley

__all__ = ["cluster_model_attributions", "keras_model_factory", "as_model_input",
           "gradient_shap", "permutation_shapley", "METHODS"]

METHODS = ("gradient", "permutation")
NOISE = -1


def _pool(arrays: list[np.ndarray], members: np.ndarray) -> np.ndarray:
    chosen = [np.asarray(arrays[i], dtype=np.float32) for i in members if len(arrays[i])]
    return np.concatenate(chosen) if chosen else np.empty((0, 0), np.float32)


def _sample(X: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    if len(X) <= n:
        return X
    return X[np.sort(rng.choice(len(X), size=n, replace=False))]


def _attribution_rows(name: str, values: np.ndarray, features: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({"model": name, "feature": features,
                          "feature_index": np.arange(len(features)),
                          "mean_abs_shap": np.abs(values).mean(axis=0)})
    frame = frame.sort_values(["mean_abs_shap", "feature"], ascending=[False, True])
    frame["rank"] = np.arange(1, len(frame) + 1)
    return frame


def cluster_model_attributions(dataset: FederatedDataset, result: SimulationResult | None = None,
                               engine_or_model_builder=None, n_background: int = 30,
                               n_explain: int = 50, seed: int = 0, method: str = "gradient",
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
        ``attrs["method"]`` records the method actually used, ``attrs["output"]`` what
        was explained (the predicted-class logit, or a regression prediction in the
        target's units; plain ``predictors`` are explained on their own output scale).
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

    factory = None
    if predictors:
        jobs = _predictor_jobs(predictors, labels, all_clients)
    else:
        if result is None:
            raise ConfigError("cluster model attributions need a result or predictors")
        factory = keras_model_factory(dataset, result, engine_or_model_builder, seed)
        jobs = _model_jobs(result, labels, all_clients, reference_models)

    used = method
    to_units, output = _output_units(dataset)
    frames = []
    for name, members, model, is_keras in jobs:
        explain = _sample(_pool(test_or_train, members), n_explain, rng)
        if len(explain) == 0:
            continue
        if is_keras:
            values = _keras_attributions(factory(model), method, background, explain,
                                         nsamples, n_permutations, seed) * to_units
        else:
            used = "permutation"
            values = permutation_shapley(model, background, explain, n_permutations, seed)
        frames.append(_attribution_rows(name, values, list(dataset.feature_names)))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["model", "feature", "feature_index", "mean_abs_shap", "rank"])
    out.attrs["method"] = used
    out.attrs["output"] = output if factory is not None else (
        "predictor output" if getattr(dataset, "is_regression", False) else output)
    return out


def _output_units(dataset: FederatedDataset) -> tuple[float, str]:
    """Factor from the model's output to reported units, and how that output is named."""
    if not getattr(dataset, "is_regression", False):
        return 1.0, "predicted-class logit"
    target = dataset.target_name
    if dataset.target_scale is None:
        return 1.0, f"predicted {target}"
    return dataset.target_std, f"predicted {target}, in its own units"


def _predictor_jobs(predictors: dict, labels: np.ndarray, all_clients: np.ndarray) -> list:
    """``(name, members, predict, is_keras)`` of plain callables; int keys are clusters."""
    jobs = []
    for key, fn in predictors.items():
        is_cluster = isinstance(key, int | np.integer)
        members = np.flatnonzero(labels == key) if is_cluster else all_clients
        jobs.append((f"cluster {key}" if is_cluster else str(key), members, fn, False))
    return jobs


def _model_jobs(result: SimulationResult, labels: np.ndarray, all_clients: np.ndarray,
                reference_models: dict | None) -> list:
    """``(name, members, flat_weights, is_keras)`` of the cluster and reference models."""
    jobs = [(f"cluster {k}", np.flatnonzero(labels == k), result.models[k], True)
            for k in sorted(result.models)]
    jobs += [(str(name), all_clients, flat, True)
             for name, flat in (reference_models or {}).items()]
    return jobs


def _keras_attributions(keras_model, method: str, background: np.ndarray, explain: np.ndarray,
                        nsamples: int, n_permutations: int, seed: int) -> np.ndarray:
    """SHAP values of one Keras model by expected gradients or permutations."""
    if method == "gradient":
        return gradient_shap(keras_model, background, explain, nsamples, seed)

    def predict(X):
        return np.asarray(keras_model(as_model_input(keras_model, np.asarray(X, np.float32))))

    return permutation_shapley(predict, background, explain, n_permutations, seed)
