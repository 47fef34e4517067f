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

from collections.abc import Callable
from dataclasses import dataclass, field

from ..params import Param, defaults, validate
from .bundle import ExplanationBundle, explain_all
from .descriptors import client_descriptors, descriptor_source, image_sample_features
from .disagreement import disagreement_rates, prediction_disagreement
from .divergence import cluster_feature_divergence, label_divergence, label_shift, pixel_difference
from .model_attributions import cluster_model_attributions
from .narrative import ClusterStory, Statement, summarize_clusters
from .surrogate import MembershipExplanation, explain_membership


@dataclass(frozen=True)
class Explainer:
    """A registry entry the UI lists.

    Attributes
    ----------
    name : str
    title : str
    description : str
        One or two sentences for researchers.
    function : callable
    params : dict of str to Param
        Tunable parameters (:mod:`fedcore.params`), checked by :meth:`validate`.
    needs_result : bool
        Whether a simulation result (models, representations) is required.
    figures : tuple of str
        Stable names of the figures showing its output (``fedcore.plots.explain_plots``).
    """

    name: str
    title: str
    description: str
    function: Callable
    params: dict = field(default_factory=dict)
    needs_result: bool = False
    figures: tuple[str, ...] = ()

    def defaults(self) -> dict:
        """``{parameter: default}``, ready to pass to :attr:`function`."""
        return defaults(self.params)

    def validate(self, values: dict | None = None) -> dict:
        """Defaults filled in, values checked (one-line ConfigError otherwise)."""
        return validate(self.params, values, f"explainer '{self.name}'")


SEED = Param(int, 0, 0, help="Random seed of the surrogate / sampling.")
SPLIT = Param(str, "train", choices=("train", "test"), help="Which samples to compare.")


EXPLAINERS: dict[str, Explainer] = {
    "membership": Explainer(
        "membership", "Why are these clients together?",
        "A random forest predicts each client's cluster from summaries of its data (label mix, "
        "feature means/quantiles, size, missing rates) and model; SHAP ranks the summaries "
        "that drive membership. Fidelity says how well the surrogate reproduces the clustering.",
        explain_membership,
        {"seed": SEED,
         "threshold": Param(float, 0.8, 0.5, 1.0, step=0.05,
                            help="Fidelity (balanced accuracy) needed to trust it."),
         "n_estimators": Param(int, 100, 10, 1000, help="Trees of the random-forest surrogate.")},
        figures=("membership_shap_bar", "membership_source_bar", "membership_shap_beeswarm")),
    "divergence": Explainer(
        "divergence", "Which features differ?",
        "For each cluster against all other clients: standardized mean difference or "
        "Wasserstein distance of every feature (image summaries for images).",
        cluster_feature_divergence,
        {"measure": Param(str, "smd", choices=("smd", "wasserstein"),
                          help="Standardized mean difference or Wasserstein distance."),
         "split": SPLIT},
        figures=("divergence_heatmap", "pixel_difference")),
    "label_divergence": Explainer(
        "label_divergence", "Which labels differ?",
        "Label mix of each cluster against the rest, with a Jensen-Shannon divergence per "
        "cluster.", label_divergence,
        {"split": SPLIT},
        figures=("label_divergence",)),
    "cluster_models": Explainer(
        "cluster_models", "What does each cluster model look at?",
        "SHAP values of each cluster model's predicted-class logit on its clients' test data, "
        "next to the FedAvg model when given.", cluster_model_attributions,
        {"method": Param(str, "gradient", choices=("gradient", "permutation"),
                         help="Expected gradients (Keras) or permutation SHAP."),
         "n_background": Param(int, 50, 5, 500, help="Background samples."),
         "n_explain": Param(int, 100, 5, 1000, help="Explained test samples per model."),
         "seed": SEED},
        needs_result=True, figures=("cluster_model_attribution",)),
    "disagreement": Explainer(
        "disagreement", "Do the cluster models label the same inputs differently?",
        "Every cluster model predicts one pool of held-out inputs; each cluster's predictions "
        "are compared with the class the OTHER cluster models agree on (majority vote). "
        "Finds concept shift that data summaries cannot see, e.g. swapped labels "
        "('predicts 8 where the others predict 3 on 91% of such inputs').",
        prediction_disagreement,
        {"max_rows": Param(int, 2000, 50, 20000,
                           help="Held-out inputs predicted by every model."),
         "seed": SEED},
        needs_result=True, figures=("prediction_disagreement",)),
    "summary": Explainer(
        "summary", "Plain-language summary",
        "One story per cluster; every sentence cites the figure and the number it comes from, "
        "with a caveat when the surrogate is not faithful.", summarize_clusters,
        {"top": Param(int, 3, 1, 10, help="Statements per source (labels, features).")},
        figures=("prediction_disagreement", "membership_shap_bar", "membership_source_bar",
                 "divergence_heatmap", "label_divergence")),
}

__all__ = [
    "EXPLAINERS", "Explainer", "ExplanationBundle", "explain_all", "client_descriptors",
    "descriptor_source", "image_sample_features", "cluster_feature_divergence",
    "label_divergence", "label_shift", "pixel_difference", "cluster_model_attributions",
    "ClusterStory", "Statement", "summarize_clusters", "MembershipExplanation",
    "explain_membership", "prediction_disagreement", "disagreement_rates",
]
