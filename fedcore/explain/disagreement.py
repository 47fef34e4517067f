"""Do the cluster models label the same inputs differently? Prediction disagreement per cluster.

Surrogates of client descriptors (``membership``) cannot see a concept shift that leaves P(x)
and P(y) unchanged, e.g. a label swap where one group calls every '3' an '8' and every '8' a
'3': only P(y|x) differs, and only the models know it. This explainer compares the models'
BEHAVIOUR directly: every cluster model predicts the same pool of held-out inputs (test rows of
all clients), and each cluster's predictions are cross-tabulated against the class the OTHER
cluster models agree on (their majority vote, the "consensus"). A cell "consensus '3' ->
predicted '8' at 91%" says that this cluster's model labels 91% of the inputs the others call
'3' as '8'.

This is a model-behaviour comparison in the spirit of concept-shift detection in clustered
federated learning, where label-swap / label-permutation benchmarks are the standard test of
P(y|x) heterogeneity (Ghosh et al. 2020, "An efficient framework for clustered federated
learning", NeurIPS - IFCA; Sattler, Mueller & Samek 2020, "Clustered federated learning:
model-agnostic distributed multitask optimization under privacy constraints", IEEE TNNLS).
No labels are used: the table says how the models differ, not which one is right.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..dataset import FederatedDataset
from ..errors import ConfigError
from ..results import SimulationResult
from .model_predictors import (
    dense_layer_sizes,
    dense_predictor,
    keras_model_factory,
    keras_predictor,
    probabilities,
)

__all__ = ["prediction_disagreement", "disagreement_rates", "consensus_vote", "input_pool",
           "dense_layer_sizes", "dense_predictor"]

#: Columns of :func:`prediction_disagreement`'s table.
COLUMNS = ["cluster", "reference_class", "predicted_class", "fraction", "n", "count",
           "consensus_fraction", "reference_index", "predicted_index", "disagreement_rate",
           "rank"]
NOISE = -1


def _empty(note: str = "") -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype=float if c in ("fraction", "consensus_fraction",
                                                          "disagreement_rate") else object)
                        for c in COLUMNS})
    out.attrs.update(note=note, disagreement_rate={}, n_inputs=0, n_without_consensus={},
                     n_models=0, label_names=[])
    return out


def input_pool(dataset: FederatedDataset, max_rows: int = 2000, seed: int = 0) -> np.ndarray:
    """Held-out rows of every client (train rows for clients without a test split), at most
    ``max_rows`` of them drawn with ``seed`` (float32, flat)."""
    parts = [np.asarray(xt if len(xt) else xr, dtype=np.float32)
             for xt, xr in zip(dataset.x_test, dataset.x_train)]
    parts = [p.reshape(len(p), -1) for p in parts if len(p)]
    if not parts:
        return np.empty((0, int(np.prod(dataset.input_shape))), np.float32)
    pool = np.concatenate(parts)
    if len(pool) > max_rows:
        rng = np.random.default_rng(seed)
        pool = pool[np.sort(rng.choice(len(pool), size=max_rows, replace=False))]
    return pool


def consensus_vote(predicted: np.ndarray, probabilities: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Majority vote of several models, ties broken by their mean predicted probability.

    Parameters
    ----------
    predicted : ndarray (m, n) of int
        Predicted class of each of ``m`` models on ``n`` inputs.
    probabilities : ndarray (m, n, C)

    Returns
    -------
    consensus : ndarray (n,) of int
    share : ndarray (n,)
        Fraction of the models that voted for the consensus class (1 = unanimous).
    """
    m, n = predicted.shape
    n_classes = probabilities.shape[2]
    votes = np.zeros((n, n_classes))
    np.add.at(votes, (np.broadcast_to(np.arange(n), (m, n)), predicted), 1.0)
    top = votes.max(axis=1, keepdims=True)
    # Among the classes with the most votes, the one the models find most probable on average.
    score = np.where(votes == top, probabilities.mean(axis=0), -np.inf)
    consensus = score.argmax(axis=1)
    return consensus, top[:, 0] / m


def _cluster_rows(cluster: int, own: np.ndarray, consensus: np.ndarray, share: np.ndarray,
                  label_names: list[str], rate: float) -> list[dict]:
    n_classes = len(label_names)
    cells = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cells, (consensus, own), 1)
    n_ref = cells.sum(axis=1)
    share_sum = np.bincount(consensus, weights=share, minlength=n_classes)
    rows = []
    for a, b in zip(*np.nonzero(cells)):
        if a == b:
            continue
        rows.append({"cluster": int(cluster), "reference_class": label_names[a],
                     "predicted_class": label_names[b],
                     "fraction": float(cells[a, b] / n_ref[a]), "n": int(n_ref[a]),
                     "count": int(cells[a, b]),
                     "consensus_fraction": float(share_sum[a] / n_ref[a]),
                     "reference_index": int(a), "predicted_index": int(b),
                     "disagreement_rate": rate})
    return rows


def prediction_disagreement(dataset: FederatedDataset, result: SimulationResult | None = None,
                            labels=None, max_rows: int = 2000, seed: int = 0,
                            predictors: dict | None = None, engine_or_model_builder=None
                            ) -> pd.DataFrame:
    """Where each cluster model's predictions differ from the other cluster models' consensus.

    All cluster models in use predict one common pool of held-out inputs (the test rows of
    every client, at most ``max_rows`` drawn with ``seed``). For cluster ``k``, the
    "consensus" on an input is the class a strict majority of the OTHER cluster models vote
    for (with 2 clusters: simply the other model); inputs without such a majority (e.g. three
    other models saying three different classes) are left out for that cluster. Each table
    row is one off-diagonal cell of the consensus x cluster-``k`` confusion: among the ``n``
    inputs the others call ``reference_class``, the ``fraction`` (``count``) that cluster
    ``k``'s model calls ``predicted_class`` instead. A label swap 3<->8 shows up as two cells
    near 100%: 3 -> 8 and 8 -> 3.

    A model-behaviour comparison in the spirit of concept-shift detection (label-swap
    benchmarks of Ghosh et al. 2020, IFCA, and Sattler et al. 2020, CFL): it needs no labels
    and sees P(y|x) differences that data summaries cannot.

    Parameters
    ----------
    dataset : FederatedDataset
    result : SimulationResult, optional
        Source of the cluster models (``result.models``, flat weights), their spec and the
        assignments.
    labels : array-like of int, optional
        Cluster of each client; default ``result.assignments``. Only models of clusters that
        have clients (noise ``-1`` excluded) are compared.
    max_rows : int
        Size of the input pool.
    seed : int
        Seed of the pool's subsample.
    predictors : dict, optional
        Instead of flat weights: ``{cluster_int: predict_logits}``, each
        ``predict_logits(X (n, d)) -> (n, C)`` (logits or probabilities).
    engine_or_model_builder : optional
        An engine with ``keras_model(flat)`` or a callable ``flat -> keras.Model``. Default:
        ``logreg``/``mlp`` models predict in numpy from their flat weights
        (:func:`dense_predictor`, no TensorFlow); others get one Keras model built from
        ``result.model_spec``, loaded with each cluster's weights in turn.

    Returns
    -------
    DataFrame
        ``cluster, reference_class, predicted_class, fraction, n, count,
        consensus_fraction, reference_index, predicted_index, disagreement_rate, rank``:
        class names from ``dataset.label_names``; ``consensus_fraction`` is the mean share of
        the other models that voted for ``reference_class`` on those ``n`` inputs (1 =
        unanimous, always > 0.5); ``disagreement_rate`` is the fraction of the pool's inputs
        with a consensus where cluster ``k`` differs from it (same on every row of a
        cluster); ``rank`` orders a cluster's cells by ``fraction`` (then ``count``).
        ``attrs``: ``disagreement_rate`` (``{cluster: rate}``, also for clusters that never
        disagree), ``n_inputs``, ``n_without_consensus`` (``{cluster: inputs left out}``),
        ``n_models``, ``label_names`` and ``note`` (why the table is empty, e.g. a single
        cluster).
    """
    if labels is None:
        if result is None:
            raise ConfigError("prediction disagreement needs labels or a simulation result")
        labels = result.assignments
    labels = np.asarray(labels)
    in_use = sorted({int(c) for c in labels if c != NOISE})
    if predictors is None:
        if result is None:
            raise ConfigError("prediction disagreement needs a result or predictors")
        available = result.models
    else:
        available = predictors
    clusters = [c for c in in_use if c in available]
    if len(clusters) < 2:
        return _empty(f"prediction disagreement compares cluster models with each other: it "
                      f"needs at least 2 cluster models in use, this clustering has "
                      f"{len(clusters)}")
    if getattr(dataset, "is_regression", False):
        return _empty("prediction disagreement compares predicted classes; a regression "
                      "task has none -- compare the cluster models' attributions instead")
    pool = input_pool(dataset, max_rows, seed)
    if len(pool) == 0:
        return _empty("prediction disagreement: no held-out inputs to predict")
    n_classes = int(dataset.n_classes)
    label_names = [str(v) for v in dataset.label_names][:n_classes]
    label_names += [str(i) for i in range(len(label_names), n_classes)]

    probs = _model_probabilities(dataset, result, clusters, pool, n_classes, predictors,
                                 engine_or_model_builder, seed)
    rows, rates, undecided = _compare_with_consensus(clusters, probs, label_names)
    if rows:
        out = pd.DataFrame(rows)
        out = out.sort_values(["cluster", "fraction", "count", "reference_index",
                               "predicted_index"], ascending=[True, False, False, True, True],
                              kind="stable", ignore_index=True)
        out["rank"] = out.groupby("cluster").cumcount() + 1
        out = out[COLUMNS]
    else:
        out = _empty()
    out.attrs.update(note="" if rows else "the cluster models agree on every input",
                     disagreement_rate=rates, n_inputs=int(len(pool)),
                     n_without_consensus=undecided, n_models=len(clusters),
                     label_names=label_names)
    return out


def _model_probabilities(dataset: FederatedDataset, result: SimulationResult | None,
                         clusters: list[int], pool: np.ndarray, n_classes: int,
                         predictors: dict | None, engine_or_model_builder,
                         seed: int) -> np.ndarray:
    """``(n_models, n_inputs, n_classes)`` predicted probabilities of every cluster model."""
    probs = np.empty((len(clusters), len(pool), n_classes))
    if predictors is not None:
        for i, c in enumerate(clusters):
            probs[i] = probabilities(predictors[c], pool, n_classes)
        return probs
    n_features = pool.shape[1]
    dense = ({} if engine_or_model_builder is not None else
             {c: dense_predictor(result, result.models[c], n_features, n_classes)
              for c in clusters})
    factory = None
    for i, c in enumerate(clusters):
        predict = dense.get(c)
        if predict is None:
            if factory is None:
                factory = keras_model_factory(dataset, result, engine_or_model_builder, seed)
            predict = keras_predictor(factory(result.models[c]))
        probs[i] = probabilities(predict, pool, n_classes)
    return probs


def _compare_with_consensus(clusters: list[int], probs: np.ndarray, label_names: list[str]):
    """Table rows, ``{cluster: disagreement rate}`` and ``{cluster: inputs without consensus}``."""
    predicted = probs.argmax(axis=2)
    rows, rates, undecided = [], {}, {}
    for i, c in enumerate(clusters):
        others = np.arange(len(clusters)) != i
        consensus, share = consensus_vote(predicted[others], probs[others])
        # Only inputs on which a strict majority of the other models agree have a consensus
        # (always, with 2 clusters): a 1-1 tie says nothing about who disagrees.
        decided = share > 0.5
        undecided[c] = int((~decided).sum())
        own = predicted[i][decided]
        rates[c] = float(np.mean(own != consensus[decided])) if decided.any() else float("nan")
        rows += _cluster_rows(c, own, consensus[decided], share[decided], label_names,
                              rates[c])
    return rows, rates, undecided


def disagreement_rates(table: pd.DataFrame) -> pd.DataFrame:
    """``cluster, disagreement_rate`` of every compared cluster (from the table's attrs)."""
    rates = table.attrs.get("disagreement_rate") or {}
    return pd.DataFrame({"cluster": list(rates), "disagreement_rate": list(rates.values())})
