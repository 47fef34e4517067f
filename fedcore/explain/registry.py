"""The explainer registry: every explanation of a clustering, by name, with its parameters.

:func:`~fedcore.explain.bundle.explain_all` runs the entries in this order, each with its
validated parameters, so the defaults below are the ones the dashboard and the CLI use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..params import Param, defaults, validate
from . import steps
from .disagreement import prediction_disagreement
from .divergence import cluster_feature_divergence, label_divergence
from .model_attributions import cluster_model_attributions
from .narrative import summarize_clusters
from .surrogate import explain_membership


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
    step : callable
        ``step(ctx, params) -> output``: calls :attr:`function` with the inputs of one
        :class:`~fedcore.explain.steps.ExplainContext` and the validated ``params``;
        :func:`~fedcore.explain.bundle.explain_all` runs the enabled steps in registry order.
    """

    name: str
    title: str
    description: str
    function: Callable
    params: dict = field(default_factory=dict)
    needs_result: bool = False
    figures: tuple[str, ...] = ()
    step: Callable | None = None

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
        figures=("membership_shap_bar", "membership_source_bar", "membership_shap_beeswarm"),
        step=steps.membership_step),
    "divergence": Explainer(
        "divergence", "Which features differ?",
        "For each cluster against all other clients: standardized mean difference or "
        "Wasserstein distance of every feature (image summaries for images).",
        cluster_feature_divergence,
        {"measure": Param(str, "smd", choices=("smd", "wasserstein"),
                          help="Standardized mean difference or Wasserstein distance."),
         "split": SPLIT},
        figures=("divergence_heatmap", "pixel_difference"), step=steps.divergence_step),
    "label_divergence": Explainer(
        "label_divergence", "Which labels differ?",
        "Label mix of each cluster against the rest, with a Jensen-Shannon divergence per "
        "cluster.", label_divergence,
        {"split": SPLIT},
        figures=("label_divergence",), step=steps.label_divergence_step),
    "cluster_models": Explainer(
        "cluster_models", "What does each cluster model look at?",
        "SHAP values of each cluster model's predicted-class logit on its clients' test data, "
        "next to the FedAvg model when given.", cluster_model_attributions,
        {"method": Param(str, "gradient", choices=("gradient", "permutation"),
                         help="Expected gradients (Keras) or permutation SHAP."),
         "n_background": Param(int, 30, 5, 500, help="Background samples."),
         "n_explain": Param(int, 50, 5, 1000, help="Explained test samples per model."),
         "seed": SEED},
        needs_result=True, figures=("cluster_model_attribution",),
        step=steps.cluster_models_step),
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
        needs_result=True, figures=("prediction_disagreement",),
        step=steps.disagreement_step),
    "summary": Explainer(
        "summary", "Plain-language summary",
        "One story per cluster; every sentence cites the figure and the number it comes from, "
        "with a caveat when the surrogate is not faithful.", summarize_clusters,
        {"top": Param(int, 3, 1, 10, help="Statements per source (labels, features).")},
        figures=("prediction_disagreement", "membership_shap_bar", "membership_source_bar",
                 "divergence_heatmap", "label_divergence"),
        step=steps.summary_step),
}
