"""What a simulation produces, kept for re-clustering, plots, explanations and export."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .regression_metrics import Metric, primary_metric


@dataclass
class Representation:
    """One way of describing every client, used to (re-)cluster without retraining.

    Exactly one of ``X`` (clients x dims) or ``distance`` (clients x clients, a
    precomputed dissimilarity) is set for distance-only representations such as
    PACFL's principal angles; both may be set.

    Attributes
    ----------
    name : str
        Registry key: ``weights``, ``updates``, ``last_layer``, ``loss_profile``,
        ``data_summary``, ``principal_angles``.
    X : ndarray of shape (n_clients, n_dims) or None
    distance : ndarray of shape (n_clients, n_clients) or None
    description : str
        What the vectors are, for the UI (including whether they were sketched).
    """

    name: str
    X: np.ndarray | None = None
    distance: np.ndarray | None = None
    description: str = ""


@dataclass
class SimulationResult:
    """Everything one (method, dataset, config) run produced.

    Attributes
    ----------
    method : str
        Registry key of the strategy (``fedavg``, ``ifca``...).
    params : dict
        The strategy's hyper-parameters.
    config : dict
        ``SimulationConfig.to_dict()``.
    client_ids : list of str
    true_groups : ndarray or None
    assignments : ndarray of int, shape (n_clients,)
        Final cluster of each client (the model it is evaluated with).
    assignment_history : ndarray of int, shape (rounds, n_clients)
    rounds : DataFrame
        One row per round: ``round, mean_accuracy, worst_accuracy, mean_loss, train_loss,
        n_clusters, n_nonfinite, seconds``; a regression run has ``mean_rmse, worst_rmse``
        (worst = largest) instead of the two accuracy columns.
    client_metrics : DataFrame
        One row per client: ``client, cluster, accuracy, loss, n_train, n_test, nonfinite``
        (+ ``true_group`` when known). Accuracy is the client's final model on its own test
        split. A regression run has ``loss, mae, rmse, r2`` instead of ``accuracy, loss``
        (no accuracy column).
    diagnostics : list of dict
        Per-round strategy diagnostics (CFL norms, IFCA loss matrix, PACFL angles...).
    representations : dict of str to Representation
    models : dict of int to ndarray
        Final flat weights of each cluster model.
    model_spec : dict
    dataset_fingerprint : str
    wall_seconds : float
    errors : list of str
    task : {"classification", "regression"}
        The dataset's task; runs saved before tasks existed load as classification.
    target_scale : (float, float) or None
        Regression: the dataset's ``(mean, std)`` target scale. The models predict the
        standardised target; ``prediction * std + mean`` is in the target's units (the
        unit of every error in ``rounds`` and ``client_metrics``). None: raw targets.
    """

    method: str
    params: dict
    config: dict
    client_ids: list[str]
    true_groups: np.ndarray | None
    assignments: np.ndarray
    assignment_history: np.ndarray
    rounds: pd.DataFrame
    client_metrics: pd.DataFrame
    diagnostics: list[dict] = field(default_factory=list)
    representations: dict[str, Representation] = field(default_factory=dict)
    models: dict[int, np.ndarray] = field(default_factory=dict)
    model_spec: dict = field(default_factory=dict)
    dataset_fingerprint: str = ""
    wall_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    task: str = "classification"
    target_scale: tuple[float, float] | None = None

    @property
    def n_clients(self) -> int:
        return len(self.client_ids)

    @property
    def is_regression(self) -> bool:
        return self.task == "regression"

    @property
    def primary(self) -> Metric:
        """The metric that ranks this run: accuracy, or RMSE (lower is better)."""
        return primary_metric(self.task)

    @property
    def mean_client_accuracy(self) -> float:
        """Mean client accuracy (NaN for a regression run: it has no accuracy)."""
        if "accuracy" not in self.client_metrics:
            return float("nan")
        return float(np.nanmean(self.client_metrics["accuracy"].to_numpy()))

    @property
    def mean_client_score(self) -> float:
        """Mean over clients of the primary metric (accuracy or RMSE)."""
        return float(np.nanmean(self.client_metrics[self.primary.name].to_numpy(float)))
