"""Compute every explanation of one clustering at once (the UI and the CLI call this).

Combines client descriptors + membership surrogate (Molnar 2022, global surrogates; Lundberg
et al. 2020, TreeSHAP), feature/label divergence (Cohen 1988; Lin 1991), cluster-model SHAP
(Erion et al. 2021, expected gradients), the cluster models' prediction disagreement (concept
shift such as label swaps; Ghosh et al. 2020, Sattler et al. 2020) and the plain-language
stories built from them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..dataset import FederatedDataset
from ..metrics import relabel_like, same_partition
from ..results import SimulationResult
from .descriptors import client_descriptors
from .divergence import label_shift, pixel_difference
from .model_predictors import keras_model_factory
from .narrative import ClusterStory
from .registry import EXPLAINERS
from .steps import ExplainContext
from .surrogate import MembershipExplanation


@dataclass
class ExplanationBundle:
    """All explanations of one clustering of one dataset.

    Attributes
    ----------
    labels : ndarray
        The clustering explained.
    descriptors : DataFrame
    membership : MembershipExplanation
    divergence : DataFrame
        ``cluster, feature, value, cluster_mean, rest_mean, rank`` (SMD).
    label_divergence : DataFrame
    label_shift : DataFrame
        ``cluster, n_clients, n_samples, js_divergence``.
    pixel_difference : DataFrame
        Empty for non-image data.
    model_attributions : DataFrame or None
        None when not requested, when there is no result or when it failed (see ``errors``).
    stories : list of ClusterStory
    timings : dict of str to float
        Seconds per step.
    errors : list of str
        Steps that failed, in plain words (the other steps are still usable).
    disagreement : DataFrame or None
        :func:`~fedcore.explain.disagreement.prediction_disagreement` of the cluster models;
        None without a result, with fewer than 2 cluster models in use, for a re-clustering
        (see ``errors``) or when not requested.
    """

    labels: np.ndarray
    descriptors: pd.DataFrame
    membership: MembershipExplanation
    divergence: pd.DataFrame
    label_divergence: pd.DataFrame
    label_shift: pd.DataFrame
    pixel_difference: pd.DataFrame
    model_attributions: pd.DataFrame | None
    stories: list[ClusterStory]
    timings: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    disagreement: pd.DataFrame | None = None

    def summary_text(self) -> str:
        return "\n\n".join(s.text() for s in self.stories)


#: Plain words for a failed model step (the other explanations stay usable).
MODEL_STEP_FAILURES = {"cluster_models": "cluster-model attributions failed",
                       "disagreement": "prediction disagreement failed"}


def explain_all(dataset: FederatedDataset, result: SimulationResult | None = None, labels=None,
                seed: int = 0, model_attributions: bool = True, engine_or_model_builder=None,
                reference_models: dict | None = None, params: dict | None = None,
                model_descriptors: bool = True, disagreement: bool = True) -> ExplanationBundle:
    """Every explanation of ``labels`` (default: the result's final assignments).

    Runs the entries of :data:`~fedcore.explain.EXPLAINERS` in registry order, each with its
    parameters validated against the registry (whose defaults are the dashboard's).

    Parameters
    ----------
    dataset : FederatedDataset
    result : SimulationResult, optional
        Adds model descriptors and enables cluster-model attributions.
    labels : array-like of int, optional
        A re-clustering to explain; defaults to ``result.assignments``.
    seed : int
        Seed of every explainer that has a ``seed`` parameter (unless ``params`` sets it).
    model_attributions : bool
        Compute SHAP of each cluster model (only when the labels are the result's own
        assignments, since the models were trained for those clusters).
    engine_or_model_builder, reference_models :
        Passed to :func:`cluster_model_attributions`.
    params : dict of str to dict, optional
        Parameters per explainer name, e.g. ``{"cluster_models": {"n_explain": 100},
        "membership": {"threshold": 0.9}}``; a bad value is a ConfigError.
    model_descriptors : bool
        Include model summaries (update norm, last-layer norms) among the descriptors. Turn
        off to explain a clustering by the clients' DATA only (a clustering computed from
        updates is otherwise partly explained by itself).
    disagreement : bool
        Compare the cluster models' predictions on a common pool of held-out inputs
        (:func:`prediction_disagreement`); only for the run's own clusters with >= 2 cluster
        models in use. Cheap (one forward pass per model).
    """
    labels = _labels_to_explain(labels, result)
    timings: dict[str, float] = {}
    errors: list[str] = []

    def timed(name, fn, *args, **kwargs):
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        timings[name] = time.perf_counter() - t0
        return out

    desc = timed("descriptors", client_descriptors, dataset,
                 result if model_descriptors else None)
    ctx = ExplainContext(dataset, labels, desc, result, engine_or_model_builder,
                         engine_or_model_builder, reference_models)
    enabled = _enabled_explainers(ctx, model_attributions, disagreement, errors)
    if getattr(dataset, "is_regression", False):
        # Class-only explainers: a continuous target has no label mix to compare.
        enabled.discard("label_divergence")
        errors.append(REGRESSION_NOTE)
    if "cluster_models" in enabled and ctx.model_builder is None:
        try:
            ctx.model_builder = timed("model_build", keras_model_factory, dataset, result,
                                      None, seed)
        except (ImportError, ValueError, RuntimeError, TypeError) as exc:
            errors.append(f"cluster models could not be rebuilt: {exc}")
            enabled.discard("cluster_models")
    for name, entry in EXPLAINERS.items():
        if name not in enabled:
            continue
        values = dict((params or {}).get(name, {}))
        if "seed" in entry.params:
            values.setdefault("seed", seed)
        checked = entry.validate(values)
        try:
            ctx.outputs[name] = timed(name, entry.step, ctx, checked)
        except (ImportError, ValueError, RuntimeError) as exc:
            if name not in MODEL_STEP_FAILURES:
                raise
            errors.append(f"{MODEL_STEP_FAILURES[name]}: {exc}")
    out = ctx.outputs
    return ExplanationBundle(labels, desc, out.get("membership"), out.get("divergence"),
                             out.get("label_divergence", _NO_LABEL_DIVERGENCE),
                             _label_shift(dataset, labels, timed),
                             timed("pixel_difference", pixel_difference, dataset, labels),
                             out.get("cluster_models"), out.get("summary"), timings, errors,
                             out.get("disagreement"))


#: Why the class-only explainers are absent from a regression run's explanation.
REGRESSION_NOTE = ("label divergence and label shift compare class distributions, which a "
                   "continuous target does not have: the membership descriptors compare each "
                   "client's target mean and spread instead")


_NO_LABEL_DIVERGENCE = pd.DataFrame(columns=["cluster", "label", "label_index",
                                             "cluster_fraction", "rest_fraction",
                                             "difference"])


def _label_shift(dataset, labels, timed) -> pd.DataFrame:
    if getattr(dataset, "is_regression", False):
        return pd.DataFrame(columns=["cluster", "n_clients", "n_samples", "js_divergence"])
    return timed("label_shift", label_shift, dataset, labels)


def _labels_to_explain(labels, result: SimulationResult | None) -> np.ndarray:
    if labels is None:
        if result is None:
            raise ValueError("explain_all needs labels or a simulation result")
        labels = result.assignments
    labels = np.asarray(labels).astype(np.int64)
    if result is not None:
        # The same partition numbered differently IS the run's own clustering.
        labels = relabel_like(labels, result.assignments)
    return labels


def _enabled_explainers(ctx: ExplainContext, model_attributions: bool, disagreement: bool,
                        errors: list[str]) -> set[str]:
    """Names of the explainers to run; model explainers only for the run's own clusters."""
    result, labels = ctx.result, ctx.labels
    enabled = {name for name, e in EXPLAINERS.items() if not e.needs_result}
    in_use = [] if result is None else [
        c for c in sorted({int(c) for c in labels if c != -1}) if c in result.models]
    wanted = {"cluster_models"} if model_attributions else set()
    if disagreement and len(in_use) >= 2:
        wanted.add("disagreement")
    if result is not None and not result.models and (model_attributions or disagreement):
        from ..interop.to_run import NO_MODEL_NOTE, is_imported
        if is_imported(result):
            errors.append(NO_MODEL_NOTE)
    if result is None or not result.models or not wanted:
        return enabled
    if not same_partition(labels, result.assignments):
        errors.append("cluster-model attributions and prediction disagreement skipped: the "
                      "models were trained for the run's own clusters, not for this "
                      "re-clustering")
        return enabled
    return enabled | wanted
