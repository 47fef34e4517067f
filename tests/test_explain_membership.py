"""Membership surrogate + SHAP: planted causes are recovered, low fidelity is flagged."""

import numpy as np
import pandas as pd
import pytest

from fedcore.explain import client_descriptors, explain_membership
from fedcore.explain.sanity import label_skew_federation, shifted_feature_federation
from fedcore.explain.surrogate import _per_class_shap


@pytest.fixture(scope="module")
def shifted():
    ds = shifted_feature_federation(n_clients=20, shift=2.0, seed=0)
    return ds, client_descriptors(ds)


def test_shifted_feature_ranks_first(shifted):
    ds, desc = shifted
    m = explain_membership(desc, ds.true_groups, seed=0)
    assert m.clusters == [0, 1]
    for c in (0, 1):
        assert m.top(c, 1)["descriptor"].iloc[0].endswith(": feature_3")
        src = m.source_ranking[m.source_ranking["cluster"] == c]
        assert src["source"].iloc[0] == "feature_3"
        # feature_3 carries most of the attribution, not just a bit more than the others
        assert src["mean_abs_shap"].iloc[0] > 3 * src["mean_abs_shap"].iloc[1]
    assert m.accuracy == 1.0 and m.balanced_accuracy == 1.0 and m.n_folds == 5
    assert m.trustworthy and m.warning is None
    assert set(m.ranking.columns) == {"cluster", "descriptor", "mean_abs_shap", "mean_shap",
                                      "rank"}
    assert m.shap_values[0].shape == desc.shape


def test_random_labels_are_not_trustworthy(shifted):
    ds, desc = shifted
    labels = np.random.default_rng(7).permutation(np.arange(20) % 2)
    m = explain_membership(desc, labels, seed=0)
    assert m.fidelity < 0.8
    assert not m.trustworthy
    assert f"{m.fidelity:.0%}" in m.warning and "do not explain it reliably" in m.warning


def test_label_distribution_ranks_label_descriptors_first():
    ds = label_skew_federation(n_clients=20, majority=0.8, seed=1)
    m = explain_membership(client_descriptors(ds), ds.true_groups, seed=0)
    for c in (0, 1):
        assert m.top(c, 1)["descriptor"].iloc[0].startswith("label: ")
        assert m.source_ranking[m.source_ranking["cluster"] == c]["source"].iloc[0] == "label mix"
    assert m.trustworthy


def test_singleton_cluster_and_noise(shifted):
    ds, desc = shifted
    labels = ds.true_groups.copy()
    labels[0] = 2  # a cluster of one client
    labels[1] = -1  # noise
    m = explain_membership(desc, labels)
    assert m.fidelity is None and not m.trustworthy
    assert "cannot be estimated" in m.warning
    assert m.n_noise == 1 and len(m.descriptors) == 19
    assert m.clusters == [0, 1, 2]  # still explained descriptively
    assert set(m.ranking["cluster"]) == {0, 1, 2}


def test_single_cluster_has_nothing_to_explain(shifted):
    _, desc = shifted
    m = explain_membership(desc, np.zeros(20, int))
    assert m.ranking.empty and m.clusters == [] and not m.trustworthy
    assert "only one cluster" in m.warning


def test_three_clusters_multiclass_shap_adds_up(shifted):
    ds, desc = shifted
    labels = np.arange(20) % 3
    m = explain_membership(desc, labels, seed=0)
    total = sum(m.shap_values[c].to_numpy() for c in m.clusters)
    # per-class SHAP of probabilities sum to ~0 across classes (probabilities sum to 1)
    assert np.abs(total).max() < 1e-6
    assert m.long_shap(top=3).groupby("cluster").size().tolist() == [60, 60, 60]


def test_shap_output_shapes_are_normalised():
    arr = np.arange(24.0).reshape(4, 3, 2)
    per = _per_class_shap(arr, 2)
    assert len(per) == 2 and per[1].shape == (4, 3) and per[1][0, 0] == 1.0
    per = _per_class_shap([np.ones((4, 3)), np.zeros((4, 3))], 2)
    assert per[0].sum() == 12
    per = _per_class_shap(np.ones((4, 3)), 2)
    assert per[0].sum() == -12 and per[1].sum() == 12


def test_length_mismatch_is_an_error(shifted):
    _, desc = shifted
    with pytest.raises(ValueError):
        explain_membership(desc, np.zeros(3, int))
    assert isinstance(desc, pd.DataFrame)
