"""Why were clients grouped? Explanations of a clustering, chosen by name from ``EXPLAINERS``.

* ``membership``: a random-forest surrogate predicts each client's cluster from privacy-light
  descriptors and TreeSHAP ranks the descriptors (with cross-validated fidelity);
* ``divergence`` / ``label_divergence``: per-feature and per-label differences of each cluster
  against the rest;
* ``cluster_models``: SHAP of each cluster model (and FedAvg) on its clients' test data;
* ``disagreement``: where each cluster model's predictions differ from the other cluster
  models' consensus on common held-out inputs (concept shift, e.g. swapped labels);
* ``summary``: plain-language statements, each citing its figure and number.

:func:`explain_all` computes them all at once into an :class:`ExplanationBundle`.
"""

from __future__ import annotations

from .bundle import ExplanationBundle, explain_all
from .descriptors import client_descriptors, descriptor_source, image_sample_features
from .disagreement import disagreement_rates, prediction_disagreement
from .divergence import cluster_feature_divergence, label_divergence, label_shift, pixel_difference
from .model_attributions import cluster_model_attributions
from .narrative import ClusterStory, Statement, summarize_clusters
from .registry import EXPLAINERS, Explainer
from .surrogate import MembershipExplanation, explain_membership

__all__ = [
    "EXPLAINERS", "Explainer", "ExplanationBundle", "explain_all", "client_descriptors",
    "descriptor_source", "image_sample_features", "cluster_feature_divergence",
    "label_divergence", "label_shift", "pixel_difference", "cluster_model_attributions",
    "ClusterStory", "Statement", "summarize_clusters", "MembershipExplanation",
    "explain_membership", "prediction_disagreement", "disagreement_rates",
]
