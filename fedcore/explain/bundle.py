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
from .disagreement import dense_layer_sizes, prediction_disagreement
from .divergence import (
    cluster_feature_divergence,
    label_divergence,
    label_shift,
    pixel_difference,
)
from .model_attributions import cluster_model_attributions, keras_model_factory
from .narrative import ClusterStory, summarize_clusters
from .surrogate import MembershipExplanation, explain_membership


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


def explain_all(dataset: FederatedDataset, result: SimulationResult | None = None, labels=None,
                seed: int = 0, model_attributions: bool = True, engine_or_model_builder=None,
                reference_models: dict | None = None, n_explain: int = 50,
                n_background: int = 30, threshold: float = 0.8,
                model_descriptors: bool = True, disagreement: bool = True,
                max_disagreement_rows: int = 2000) -> ExplanationBundle:
    """Every explanation of ``labels`` (default: the result's final assignments).

    Parameters
    ----------
    dataset : FederatedDataset
    result : SimulationResult, optional
        Adds model descriptors and enables cluster-model attributions.
    labels : array-like of int, optional
        A re-clustering to explain; defaults to ``result.assignments``.
    seed : int
    model_attributions : bool
        Compute SHAP of each cluster model (only when the labels are the result's own
        assignments, since the models were trained for those clusters).
    engine_or_model_builder, reference_models, n_explain, n_background :
        Passed to :func:`cluster_model_attributions`.
    threshold : float
        Surrogate fidelity needed to call the membership explanation trustworthy.
    model_descriptors : bool
        Include model summaries (update norm, last-layer norms) among the descriptors. Turn
        off to explain a clustering by the clients' DATA only (a clustering computed from
        updates is otherwise partly explained by itself).
    disagreement : bool
        Compare the cluster models' predictions on a common pool of held-out inputs
        (:func:`prediction_disagreement`, ``max_disagreement_rows`` inputs); only for the
        run's own clusters with >= 2 cluster models in use. Cheap (one forward pass per model).
    """
    if labels is None:
        if result is None:
            raise ValueError("explain_all needs labels or a simulation result")
        labels = result.assignments
    labels = np.asarray(labels).astype(np.int64)
    if result is not None:
        # The same partition numbered differently IS the run's own clustering.
        labels = relabel_like(labels, result.assignments)
    timings: dict[str, float] = {}
    errors: list[str] = []

    def timed(name, fn, *args, **kwargs):
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        timings[name] = time.perf_counter() - t0
        return out

    desc = timed("descriptors", client_descriptors, dataset,
                 result if model_descriptors else None)
    membership = timed("membership", explain_membership, desc, labels, seed=seed,
                       threshold=threshold)
    div = timed("divergence", cluster_feature_divergence, dataset, labels)
    ldiv = timed("label_divergence", label_divergence, dataset, labels)
    shift = timed("label_shift", label_shift, dataset, labels)
    pix = timed("pixel_difference", pixel_difference, dataset, labels)
    attributions = None
    table = None
    same_clusters = result is not None and same_partition(labels, result.assignments)
    in_use = [] if result is None else [
        c for c in sorted({int(c) for c in labels if c != -1}) if c in result.models]
    compare = disagreement and len(in_use) >= 2
    wants_models = result is not None and bool(result.models) and (model_attributions
                                                                   or compare)
    if result is not None and not result.models and (model_attributions or disagreement):
        from ..interop.to_run import NO_MODEL_NOTE, is_imported
        if is_imported(result):
            errors.append(NO_MODEL_NOTE)
    if wants_models and not same_clusters:
        errors.append("cluster-model attributions and prediction disagreement skipped: the "
                      "models were trained for the run's own clusters, not for this "
                      "re-clustering")
    elif wants_models:
        builder = engine_or_model_builder
        if model_attributions and builder is None:
            # ONE Keras model for all SHAP runs (and a CNN's predictions), reloaded per cluster.
            try:
                builder = timed("model_build", keras_model_factory, dataset, result, None, seed)
            except (ImportError, ValueError, RuntimeError, TypeError) as exc:
                errors.append(f"cluster models could not be rebuilt: {exc}")
                model_attributions = False
        if compare:
            # logreg/mlp predict in numpy from flat weights unless a builder was given.
            dense = engine_or_model_builder is None and dense_layer_sizes(result, 1, 2) is not None
            try:
                table = timed("disagreement", prediction_disagreement, dataset, result,
                              max_rows=max_disagreement_rows, seed=seed,
                              engine_or_model_builder=None if dense else builder)
            except (ImportError, ValueError, RuntimeError) as exc:
                errors.append(f"prediction disagreement failed: {exc}")
        if model_attributions:
            try:
                attributions = timed("cluster_models", cluster_model_attributions, dataset,
                                     result, builder, n_background=n_background,
                                     n_explain=n_explain, seed=seed,
                                     reference_models=reference_models)
            except (ImportError, ValueError, RuntimeError) as exc:
                errors.append(f"cluster-model attributions failed: {exc}")
    stories = timed("summary", summarize_clusters, dataset, labels, membership, div, ldiv,
                    disagreement=table)
    return ExplanationBundle(labels, desc, membership, div, ldiv, shift, pix, attributions,
                             stories, timings, errors, table)
