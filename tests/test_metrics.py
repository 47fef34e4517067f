"""Cluster quality and performance tables, hand-computed on tiny cases."""

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist

from fedcore.errors import ConfigError
from fedcore.metrics import (
    assignment_flows,
    client_accuracy_table,
    cluster_quality,
    cluster_sizes,
    gains_over,
    method_summary,
)
from fedcore.results import SimulationResult


def make_result(method, accuracies, assignments, truth=(0, 0, 1, 1), wall=1.0, history=None):
    n = len(accuracies)
    ids = [f"c{i}" for i in range(n)]
    cm = pd.DataFrame({"client": ids, "cluster": assignments, "accuracy": accuracies,
                       "loss": [1.0 - a for a in accuracies], "n_train": 10, "n_test": 5,
                       "nonfinite": False})
    history = np.asarray(history if history is not None else [assignments])
    return SimulationResult(method=method, params={}, config={}, client_ids=ids,
                            true_groups=np.asarray(truth), assignments=np.asarray(assignments),
                            assignment_history=history, rounds=pd.DataFrame(),
                            client_metrics=cm, wall_seconds=wall)


RESULTS = {
    "fedavg": make_result("fedavg", [0.5, 0.6, 0.7, 0.8], [0, 0, 0, 0], wall=2.0),
    "local": make_result("local", [0.6, 0.6, 0.6, 0.6], [0, 1, 2, 3]),
    "ifca": make_result("ifca", [0.9, 0.8, 0.7, 0.6], [1, 1, 0, 0], wall=3.5),
}


def test_permuted_labels_score_perfectly():
    truth = np.array([0, 0, 1, 1, 2, 2])
    q = cluster_quality(np.array([2, 2, 0, 0, 1, 1]), None, truth)
    assert q["ari"] == pytest.approx(1.0) and q["ami"] == pytest.approx(1.0)
    assert q["nmi"] == pytest.approx(1.0)
    assert q["n_clusters"] == 3 and q["n_noise"] == 0 and q["silhouette"] is None


def test_quality_hand_computed_silhouette_on_distance_and_vectors():
    X = np.array([[0.0], [1.0], [10.0], [11.0]])
    labels = np.array([0, 0, 1, 1])
    # point 0: a = 1, b = mean(10, 11) = 10.5 -> s = 1 - 1/10.5
    s = [1 - 1 / 10.5, 1 - 1 / 9.5, 1 - 1 / 9.5, 1 - 1 / 10.5]
    q_vec = cluster_quality(labels, X)
    q_dist = cluster_quality(labels, cdist(X, X))
    assert q_vec["silhouette"] == pytest.approx(np.mean(s))
    assert q_dist["silhouette"] == pytest.approx(np.mean(s))
    assert q_dist["davies_bouldin"] is None  # needs vectors
    assert q_vec["davies_bouldin"] == pytest.approx((0.5 + 0.5) / 10.0)
    assert q_vec["ari"] is None


def test_noise_is_excluded_from_silhouette_and_counted():
    X = np.array([[0.0], [1.0], [10.0], [11.0], [50.0]])
    q = cluster_quality(np.array([0, 0, 1, 1, -1]), X, np.array([0, 0, 1, 1, 1]))
    assert q["n_noise"] == 1 and q["n_clusters"] == 2
    assert q["silhouette"] == pytest.approx(np.mean([1 - 1 / 10.5, 1 - 1 / 9.5] * 2))
    single = cluster_quality(np.zeros(4, dtype=int), X[:4])
    assert single["silhouette"] is None and single["n_clusters"] == 1


def test_client_accuracy_table_is_tidy():
    table = client_accuracy_table(RESULTS)
    assert list(table.columns) == ["method", "client", "cluster", "accuracy", "loss",
                                   "true_group"]
    assert len(table) == 12
    row = table[(table.method == "ifca") & (table.client == "c0")].iloc[0]
    assert row.accuracy == 0.9 and row.cluster == 1 and row.true_group == 0


def test_gains_arithmetic_vs_fedavg_and_local():
    gains = gains_over(RESULTS, "fedavg")
    ifca = gains[gains.method == "ifca"].set_index("client")
    assert ifca.loc["c0", "gain"] == pytest.approx(0.4)
    assert ifca.loc["c3", "gain"] == pytest.approx(-0.2)
    assert ifca.loc["c0", "baseline_accuracy"] == 0.5
    assert set(gains.method) == {"local", "ifca"}
    vs_local = gains_over(RESULTS, "local")
    assert vs_local[vs_local.method == "fedavg"]["gain"].sum() == pytest.approx(0.2)
    with pytest.raises(ConfigError, match="baseline"):
        gains_over(RESULTS, "cfl")


def test_method_summary_numbers():
    summary = method_summary(RESULTS).set_index("method")
    assert list(summary.reset_index().columns) == [
        "method", "mean_accuracy", "std", "worst_accuracy", "p10_accuracy", "ari",
        "n_clusters", "wall_seconds"]
    assert summary.loc["ifca", "mean_accuracy"] == pytest.approx(0.75)
    assert summary.loc["ifca", "worst_accuracy"] == pytest.approx(0.6)
    assert summary.loc["ifca", "p10_accuracy"] == pytest.approx(0.63)
    assert summary.loc["ifca", "ari"] == pytest.approx(1.0)
    assert summary.loc["fedavg", "ari"] == pytest.approx(0.0)
    assert summary.loc["local", "n_clusters"] == 4
    assert summary.loc["ifca", "wall_seconds"] == 3.5


def test_assignment_flows_counts_moves():
    history = np.array([[0, 0, 0, 0], [0, 0, 1, 1], [1, 0, 1, 1]])
    flows = assignment_flows(history)
    assert list(flows.columns) == ["round_from", "round_to", "cluster_from", "cluster_to",
                                   "n_clients"]
    first = flows[flows.round_from == 0].set_index(["cluster_from", "cluster_to"])["n_clients"]
    assert first.to_dict() == {(0, 0): 2, (0, 1): 2}
    second = flows[flows.round_from == 1].set_index(["cluster_from", "cluster_to"])
    assert second["n_clients"].to_dict() == {(0, 0): 1, (0, 1): 1, (1, 1): 2}
    assert flows.groupby("round_from")["n_clients"].sum().tolist() == [4, 4]
    assert assignment_flows(history[:1]).empty
    skip = assignment_flows(history, rounds=[0, 2])
    assert skip["n_clients"].sum() == 4 and set(skip.round_to) == {2}


def test_cluster_sizes():
    sizes = cluster_sizes(np.array([1, 1, 0, -1]))
    assert sizes.to_dict("list") == {"cluster": [-1, 0, 1], "n_clients": [1, 1, 2],
                                     "fraction": [0.25, 0.25, 0.5]}
