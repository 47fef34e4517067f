"""Why are these clients together? A membership surrogate explained with SHAP.

A random forest learns to predict each client's cluster from its descriptors (global surrogate,
Molnar, "Interpretable Machine Learning", 2022, ch. 8.6); TreeSHAP (Lundberg et al. 2020,
"From local explanations to global understanding with explainable AI for trees", Nature
Machine Intelligence 2) then attributes each cluster's membership probability to descriptors.
The surrogate's cross-validated agreement with the clustering (fidelity) says how far the
attributions can be trusted: a surrogate that cannot reproduce the clustering cannot explain it.

Noise (label ``-1``, e.g. from DBSCAN/HDBSCAN) is excluded from the surrogate: it is not a group
that was formed for a reason, so its clients are neither explained nor used for fitting.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .descriptors import descriptor_source

NOISE = -1
#: Below this many clients, some descriptor separates any clustering by chance.
MIN_CLIENTS = 10


def import_shap():
    """shap, imported lazily (it is slow to import) without its plotting deprecation chatter."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import shap
    return shap


@dataclass
class MembershipExplanation:
    """SHAP attributions of a surrogate that predicts the cluster from client descriptors.

    Attributes
    ----------
    clusters : list of int
        Clusters explained (noise excluded).
    shap_values : dict of int to DataFrame
        Per cluster: clients x descriptors SHAP values of P(client in cluster).
    ranking : DataFrame
        ``cluster, descriptor, mean_abs_shap, mean_shap, rank`` (rank 1 = most important).
    source_ranking : DataFrame
        ``cluster, source, mean_abs_shap, n_descriptors, rank``: grouped SHAP of all the
        descriptors of one feature (mean, std, quartiles) or of the label mix (per client the
        sum of their SHAP values, then mean |.|). Correlated descriptors share credit in a
        forest, so this is the fairer "which feature" answer.
    descriptors : DataFrame
        Descriptor values of the explained clients (index = client id).
    labels : ndarray
        Cluster of each explained client.
    accuracy, balanced_accuracy : float or None
        Cross-validated agreement of the surrogate with the clustering; None if it cannot be
        estimated (a single cluster, or a cluster with one client).
    n_folds : int or None
    fidelity : float or None
        The balanced accuracy (does not reward predicting the biggest cluster everywhere).
    trustworthy : bool
        ``fidelity >= threshold`` and at least ``MIN_CLIENTS`` (10) clients explained.
    warning : str or None
        Plain-language caveat when the attributions should not be relied on.
    threshold : float
    n_noise : int
        Clients labelled ``-1`` that were left out.
    """

    clusters: list[int]
    shap_values: dict[int, pd.DataFrame]
    ranking: pd.DataFrame
    source_ranking: pd.DataFrame
    descriptors: pd.DataFrame
    labels: np.ndarray
    accuracy: float | None
    balanced_accuracy: float | None
    n_folds: int | None
    trustworthy: bool
    warning: str | None
    threshold: float = 0.8
    n_noise: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def fidelity(self) -> float | None:
        return self.balanced_accuracy

    def top(self, cluster: int, k: int = 5) -> pd.DataFrame:
        """The ``k`` most important descriptors of one cluster."""
        r = self.ranking
        return r[r["cluster"] == cluster].nsmallest(k, "rank")

    def long_shap(self, top: int = 10) -> pd.DataFrame:
        """Tidy table for beeswarm plots.

        Columns ``cluster, client, descriptor, shap, value, value_scaled``;
        ``value_scaled`` is the descriptor value rescaled to [0, 1] over clients (colour).
        """
        frames = []
        lo, hi = self.descriptors.min(), self.descriptors.max()
        scaled = (self.descriptors - lo) / (hi - lo).replace(0, 1)
        for c in self.clusters:
            names = self.top(c, top)["descriptor"].tolist()
            sv = self.shap_values[c][names]
            frame = sv.stack().rename("shap").reset_index()
            frame.columns = ["client", "descriptor", "shap"]
            frame["value"] = self.descriptors[names].stack().to_numpy()
            frame["value_scaled"] = scaled[names].stack().to_numpy()
            frame.insert(0, "cluster", c)
            frames.append(frame)
        cols = ["cluster", "client", "descriptor", "shap", "value", "value_scaled"]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


def _forest(seed: int, n_estimators: int):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=n_estimators, random_state=seed, n_jobs=1,
                                  class_weight="balanced", min_samples_leaf=1)


def _cross_validated(X: np.ndarray, y: np.ndarray, seed: int, n_estimators: int):
    """(accuracy, balanced accuracy, folds) of the surrogate, or Nones with a reason."""
    from sklearn.metrics import accuracy_score, balanced_accuracy_score
    from sklearn.model_selection import StratifiedKFold

    _, counts = np.unique(y, return_counts=True)
    k = int(min(5, counts.min()))
    if len(counts) < 2:
        return None, None, None, "there is only one cluster, so nothing separates clients"
    if k < 2:
        return None, None, None, ("a cluster has a single client, so the surrogate's "
                                  "agreement with the clustering cannot be cross-validated")
    pred = np.empty_like(y)
    folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    for train, test in folds.split(X, y):
        pred[test] = _forest(seed, n_estimators).fit(X[train], y[train]).predict(X[test])
    return (float(accuracy_score(y, pred)), float(balanced_accuracy_score(y, pred)), k, None)


def _source_ranking(shap_values: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """Grouped SHAP: per client, sum the SHAP values of a source's descriptors, then mean |.|.

    Summing before the absolute value lets noise of unrelated descriptors cancel, so a feature
    with five summaries is not favoured over a single missing-rate descriptor.
    """
    cols = ["cluster", "source", "mean_abs_shap", "n_descriptors", "rank"]
    frames = []
    for c, sv in shap_values.items():
        sources = sv.columns.map(descriptor_source)
        grouped = sv.T.groupby(sources, sort=False).sum().T
        out = pd.DataFrame({"source": grouped.columns,
                            "mean_abs_shap": grouped.abs().mean().to_numpy(),
                            "n_descriptors": pd.Series(sources).value_counts()
                            .reindex(grouped.columns).to_numpy()})
        out = out.sort_values(["mean_abs_shap", "source"], ascending=[False, True])
        out["rank"] = np.arange(1, len(out) + 1)
        out.insert(0, "cluster", c)
        frames.append(out)
    return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)


def _per_class_shap(values, n_classes: int) -> list[np.ndarray]:
    """Normalise shap's output to one (n, d) array per class.

    shap >= 0.45 returns an (n, d, classes) array for classifiers; older versions a list.
    """
    if isinstance(values, list):
        return [np.asarray(v) for v in values]
    values = np.asarray(values)
    if values.ndim == 3:
        return [values[:, :, k] for k in range(values.shape[2])]
    # Single-output regressor-like shape: the positive class; the negative is its mirror.
    return [-values, values] if n_classes == 2 else [values]


def explain_membership(descriptors: pd.DataFrame, labels, seed: int = 0, threshold: float = 0.8,
                       n_estimators: int = 100) -> MembershipExplanation:
    """Fit a membership surrogate on descriptors, estimate its fidelity, explain it with SHAP.

    Parameters
    ----------
    descriptors : DataFrame
        Clients x descriptors (from :func:`client_descriptors`); rows align with ``labels``.
    labels : array-like of int
        Cluster of each client; ``-1`` (noise) is excluded.
    seed : int
    threshold : float
        Minimum balanced accuracy for the explanation to be called trustworthy.
    n_estimators : int
        Trees of the random-forest surrogate.

    Returns
    -------
    MembershipExplanation
    """
    shap = import_shap()

    labels = np.asarray(labels).astype(np.int64)
    if len(labels) != len(descriptors):
        raise ValueError(f"{len(labels)} labels for {len(descriptors)} clients")
    keep = labels != NOISE
    desc = descriptors.loc[keep].astype(np.float64)
    desc = desc.fillna(desc.mean()).fillna(0.0)
    y = labels[keep]
    clusters = sorted(int(c) for c in np.unique(y))
    X = desc.to_numpy()
    acc, bacc, k, reason = _cross_validated(X, y, seed, n_estimators) if len(y) else (
        None, None, None, "no client is assigned to a cluster")
    shap_values: dict[int, pd.DataFrame] = {}
    rows = []
    if len(clusters) >= 2 and desc.shape[1] > 0:
        model = _forest(seed, n_estimators).fit(X, y)
        per_class = _per_class_shap(shap.TreeExplainer(model).shap_values(X), len(clusters))
        for cls, sv in zip(model.classes_, per_class):
            frame = pd.DataFrame(sv, index=desc.index, columns=desc.columns)
            shap_values[int(cls)] = frame
            stats = pd.DataFrame({"descriptor": desc.columns,
                                  "mean_abs_shap": frame.abs().mean().to_numpy(),
                                  "mean_shap": frame.mean().to_numpy()})
            stats = stats.sort_values(["mean_abs_shap", "descriptor"], ascending=[False, True])
            stats["rank"] = np.arange(1, len(stats) + 1)
            stats.insert(0, "cluster", int(cls))
            rows.append(stats)
    ranking = (pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["cluster", "descriptor", "mean_abs_shap", "mean_shap", "rank"]))
    trustworthy = bacc is not None and bacc >= threshold and len(y) >= MIN_CLIENTS
    warning = None
    if reason is None and len(y) < MIN_CLIENTS:
        reason = (f"with only {len(y)} clients, some descriptors separate the clusters by "
                  "chance")
        warning = (f"The surrogate cannot be trusted: {reason} (cross-validated fidelity "
                   f"{bacc:.0%}). Treat these attributions as descriptive only; rely on the "
                   "feature and label divergence instead.")
    elif reason is not None:
        warning = (f"The surrogate's fidelity cannot be estimated: {reason}. "
                   "Treat these attributions as descriptive only.")
    elif not trustworthy:
        warning = (f"The surrogate reproduces only {bacc:.0%} of the clustering (balanced "
                   f"accuracy; threshold {threshold:.0%}); these attributions do not explain "
                   "it reliably.")
    return MembershipExplanation(
        clusters=clusters if shap_values else [], shap_values=shap_values, ranking=ranking,
        source_ranking=_source_ranking(shap_values), descriptors=desc, labels=y, accuracy=acc,
        balanced_accuracy=bacc, n_folds=k,
        trustworthy=bool(trustworthy), warning=warning, threshold=threshold,
        n_noise=int((~keep).sum()))
