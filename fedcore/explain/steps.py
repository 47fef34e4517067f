"""How each registered explainer is run on one clustering (the ``step`` of an ``Explainer``).

A step takes the shared inputs of :func:`~fedcore.explain.bundle.explain_all` (an
:class:`ExplainContext`: dataset, labels, result, descriptors, the outputs of earlier steps)
and the explainer's validated parameters, and calls the explainer's function with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..dataset import FederatedDataset
from ..results import SimulationResult
from .disagreement import dense_layer_sizes, prediction_disagreement
from .divergence import cluster_feature_divergence, label_divergence
from .model_attributions import cluster_model_attributions
from .narrative import summarize_clusters
from .surrogate import explain_membership


@dataclass
class ExplainContext:
    """Inputs shared by the explainer steps of one :func:`explain_all` call.

    Attributes
    ----------
    dataset : FederatedDataset
    labels : ndarray
        The clustering explained.
    descriptors : DataFrame
        Client descriptors (:func:`~fedcore.explain.descriptors.client_descriptors`).
    result : SimulationResult or None
    engine_or_model_builder : optional
        What the caller gave (an engine, a ``flat -> keras.Model`` callable or None).
    model_builder : optional
        The builder the model steps use: the caller's, or ONE Keras model rebuilt for all
        SHAP runs (and a CNN's predictions), reloaded per cluster.
    reference_models : dict, optional
    outputs : dict
        Output of every step run so far, by explainer name.
    """

    dataset: FederatedDataset
    labels: np.ndarray
    descriptors: pd.DataFrame
    result: SimulationResult | None = None
    engine_or_model_builder: object = None
    model_builder: object = None
    reference_models: dict | None = None
    outputs: dict = field(default_factory=dict)


def membership_step(ctx: ExplainContext, params: dict):
    return explain_membership(ctx.descriptors, ctx.labels, **params)


def divergence_step(ctx: ExplainContext, params: dict) -> pd.DataFrame:
    return cluster_feature_divergence(ctx.dataset, ctx.labels, **params)


def label_divergence_step(ctx: ExplainContext, params: dict) -> pd.DataFrame:
    return label_divergence(ctx.dataset, ctx.labels, **params)


def cluster_models_step(ctx: ExplainContext, params: dict) -> pd.DataFrame:
    return cluster_model_attributions(ctx.dataset, ctx.result, ctx.model_builder,
                                      reference_models=ctx.reference_models, **params)


def disagreement_step(ctx: ExplainContext, params: dict) -> pd.DataFrame:
    # logreg/mlp predict in numpy from flat weights unless the caller gave a builder.
    dense = (ctx.engine_or_model_builder is None
             and dense_layer_sizes(ctx.result, 1, 2) is not None)
    return prediction_disagreement(ctx.dataset, ctx.result,
                                   engine_or_model_builder=None if dense else ctx.model_builder,
                                   **params)


def summary_step(ctx: ExplainContext, params: dict):
    out = ctx.outputs
    return summarize_clusters(ctx.dataset, ctx.labels, out.get("membership"),
                              out.get("divergence"), out.get("label_divergence"),
                              disagreement=out.get("disagreement"), **params)
