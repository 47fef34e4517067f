"""Plain-language stories: every number is the table's, every sentence cites a figure."""

import numpy as np
import pandas as pd
import pytest

from fedcore.dataset import FederatedDataset
from fedcore.explain import (
    client_descriptors,
    cluster_feature_divergence,
    explain_membership,
    label_divergence,
    summarize_clusters,
)
from fedcore.explain.narrative import num, num_pair, pct
from fedcore.explain.sanity import shifted_feature_federation

FIGURES = {"label_divergence", "divergence_heatmap", "membership_shap_bar",
           "membership_source_bar"}


def _hospitals(seed=0):
    """4 'hospitals'; the last two have more disease and cholesterol always missing."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for h in range(4):
        n = 80
        sick = rng.random(n) < (0.8 if h >= 2 else 0.4)
        age = rng.normal(55, 8, n)
        missing = (np.ones(n) if h >= 2 else (rng.random(n) < 0.02)).astype(float)
        xs.append(np.c_[age, missing].astype(np.float32))
        ys.append(sick.astype(np.int64))
    ids = ["cle", "hun", "swi", "va"]
    meta = pd.DataFrame({"site": ["Cleveland", "Hungary", "Switzerland", "VA Long Beach"]},
                        index=ids)
    return FederatedDataset(ids, xs, ys, xs, ys, ["age", "chol_missing"], ["no disease",
                            "disease"], (2,), metadata=meta)


def test_story_numbers_equal_the_tables():
    ds = _hospitals()
    labels = np.array([0, 0, 1, 1])
    ld = label_divergence(ds, labels)
    div = cluster_feature_divergence(ds, labels)
    membership = explain_membership(client_descriptors(ds), labels)
    stories = summarize_clusters(ds, labels, membership, div, ld)
    story = stories[1]
    assert story.headline.startswith("Cluster 1 = Switzerland + VA Long Beach")
    assert story.members == ["swi", "va"]
    # 4 clients: the surrogate separates them by chance, so the caveat comes first
    assert not membership.trustworthy and "only 4 clients" in story.statements[0].text
    label_st = [s for s in story.statements if s.figure_name == "label_divergence"]
    row = ld[(ld["cluster"] == 1) & (ld["label"] == "disease")].iloc[0]
    st = next(s for s in label_st if "'disease'" in s.text)
    assert (st.value, st.reference) == (row["cluster_fraction"], row["rest_fraction"])
    assert f"{pct(row['cluster_fraction'])} vs {pct(row['rest_fraction'])}" in st.text
    missing = next(s for s in story.statements if s.text.startswith("chol missing"))
    mrow = div[(div["cluster"] == 1) & (div["feature"] == "chol_missing")].iloc[0]
    assert missing.value == mrow["cluster_mean"] == 1.0
    assert missing.reference == mrow["rest_mean"]
    assert f"in 100% vs {pct(mrow['rest_mean'])} of samples" in missing.text
    for s in sum((st.statements for st in stories), []):
        assert s.figure_name in FIGURES
        assert np.isfinite(s.value) or "cannot be estimated" in s.text


def test_feature_statement_and_membership_numbers():
    ds = shifted_feature_federation(n_clients=20, shift=2.0)
    labels = ds.true_groups
    div = cluster_feature_divergence(ds, labels)
    membership = explain_membership(client_descriptors(ds), labels)
    story = summarize_clusters(ds, labels, membership, div, label_divergence(ds, labels))[1]
    feat = next(s for s in story.statements if s.figure_name == "divergence_heatmap")
    row = div[(div["cluster"] == 1)].iloc[0]
    assert feat.text.startswith("higher feature_3")
    inside, rest = num_pair(row["cluster_mean"], row["rest_mean"])
    assert f"mean {inside} vs {rest}" in feat.text
    assert float(inside) == pytest.approx(row["cluster_mean"], rel=5e-3)
    assert f"SMD {row['value']:+.2f}" in feat.text
    mem = next(s for s in story.statements if s.figure_name == "membership_source_bar")
    src = membership.source_ranking[membership.source_ranking["cluster"] == 1].iloc[0]
    assert mem.value == src["mean_abs_shap"] and num(src["mean_abs_shap"]) in mem.text
    assert "'feature_3'" in mem.text and "fidelity 100%" in mem.text
    # no label statements: labels are balanced coin flips in both groups
    assert not [s for s in story.statements if s.figure_name == "label_divergence"]


def test_untrustworthy_membership_adds_the_caveat_first():
    ds = shifted_feature_federation(n_clients=20)
    labels = np.random.default_rng(7).permutation(np.arange(20) % 2)
    membership = explain_membership(client_descriptors(ds), labels)
    assert not membership.trustworthy
    story = summarize_clusters(ds, labels, membership)[0]
    first = story.statements[0]
    assert first.text == membership.warning
    assert first.value == pytest.approx(membership.fidelity)
    assert "[membership_shap_bar]" in story.text()


def test_noise_and_empty_story():
    ds = shifted_feature_federation(n_clients=4)
    stories = summarize_clusters(ds, [0, 0, -1, 0])
    assert [s.cluster for s in stories] == [0]
    assert "no clear difference" in stories[0].headline


def test_number_pairs_stay_distinguishable():
    assert num_pair(13.99, 13.02) == ("14", "13")
    assert num_pair(14.004, 13.996) == ("14.004", "13.996")
    assert num_pair(2.0, 2.0) == ("2", "2")


def test_binary_features_are_told_as_percentages():
    xs = [np.array([[1.0], [1.0], [0.0], [1.0]], np.float32),
          np.array([[0.0], [0.0], [0.0], [1.0]], np.float32)]
    ys = [np.array([0, 1, 0, 1]), np.array([0, 1, 0, 1])]
    ds = FederatedDataset(["a", "b"], xs, ys, xs, ys, ["sex=Female"], ["n", "p"], (1,))
    div = cluster_feature_divergence(ds, [0, 1])
    story = summarize_clusters(ds, [0, 1], divergence=div)[0]
    assert story.statements[0].text == "more samples with sex=Female (75% vs 25%)"
    assert (story.statements[0].value, story.statements[0].reference) == (0.75, 0.25)
