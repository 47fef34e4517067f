"""Prediction disagreement: a cluster model that swaps two classes is caught and told by name.

Numpy linear "cluster models" (no TensorFlow): logits = X @ W with W[:, c] = centre of class c,
so every model is ~always right, and model 2 has the columns of classes 0 and 1 swapped.
"""

import numpy as np
import pandas as pd
import pytest

from fedcore.dataset import FederatedDataset
from fedcore.explain import EXPLAINERS, explain_all, prediction_disagreement, summarize_clusters
from fedcore.explain.disagreement import consensus_vote, disagreement_rates
from fedcore.explain.narrative import pct
from fedcore.explain.sanity import linear_logits
from fedcore.plots import explain_plots as ep
from fedcore.results import SimulationResult

LABELS = ["cat", "dog", "bird", "fish"]
CENTRES = 4.0 * np.eye(4, 6)  # class c lives around 4 * e_c


def _federation(n_clients=9, n=40, seed=0) -> FederatedDataset:
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for _ in range(n_clients):
        y = rng.integers(0, 4, size=n)
        xs.append((CENTRES[y] + rng.normal(size=(n, 6))).astype(np.float32))
        ys.append(y.astype(np.int64))
    ids = [f"client_{i}" for i in range(n_clients)]
    groups = np.arange(n_clients) % 3
    return FederatedDataset(ids, [x[10:] for x in xs], [y[10:] for y in ys],
                            [x[:10] for x in xs], [y[:10] for y in ys],
                            [f"f{j}" for j in range(6)], LABELS, (6,), true_groups=groups)


def _weights(swap: tuple[int, int] | None = None) -> np.ndarray:
    W = CENTRES.T.copy()  # (6, 4): logit_c = <x, centre_c>
    if swap is not None:
        a, b = swap
        W[:, [a, b]] = W[:, [b, a]]
    return W


@pytest.fixture(scope="module")
def ds():
    return _federation()


@pytest.fixture(scope="module")
def table(ds):
    predictors = {0: linear_logits(_weights()), 1: linear_logits(_weights()),
                  2: linear_logits(_weights((0, 1)))}
    return prediction_disagreement(ds, labels=ds.true_groups, predictors=predictors, seed=0)


def test_swapped_model_is_found(ds, table):
    assert {"cluster", "reference_class", "predicted_class", "fraction", "n",
            "consensus_fraction"} <= set(table.columns)
    c2 = table[table["cluster"] == 2].sort_values("rank")
    top = c2.head(2)
    assert set(zip(top["reference_class"], top["predicted_class"])) == {("cat", "dog"),
                                                                         ("dog", "cat")}
    assert (top["fraction"] > 0.95).all() and (top["consensus_fraction"] == 1.0).all()
    assert list(top["rank"]) == [1, 2]
    # fraction = count / n, and n = inputs the other two models call that class
    np.testing.assert_allclose(top["fraction"], top["count"] / top["n"])
    rates = table.attrs["disagreement_rate"]
    assert set(rates) == {0, 1, 2}
    assert rates[2] == pytest.approx(c2["disagreement_rate"].iloc[0]) and rates[2] > 0.3
    # clusters 0 and 1: on cats/dogs the other two models split 1-1 (no consensus, left out);
    # on birds/fish everyone agrees
    assert rates[0] < 0.05 and rates[1] < 0.05
    assert table.attrs["n_without_consensus"][0] > 0
    assert table.attrs["n_without_consensus"][2] == 0
    assert table.attrs["n_inputs"] == 9 * 10 and table.attrs["n_models"] == 3
    assert disagreement_rates(table).set_index("cluster")["disagreement_rate"].to_dict() == rates


def test_pool_is_subsampled_with_the_seed(ds):
    predictors = {0: linear_logits(_weights()), 1: linear_logits(_weights((2, 3)))}
    a = prediction_disagreement(ds, labels=np.arange(9) % 2, predictors=predictors,
                                max_rows=30, seed=1)
    b = prediction_disagreement(ds, labels=np.arange(9) % 2, predictors=predictors,
                                max_rows=30, seed=1)
    assert a.attrs["n_inputs"] == 30
    pd.testing.assert_frame_equal(a, b)


def test_two_clusters_compare_with_the_other_model(ds):
    predictors = {0: linear_logits(_weights()), 1: linear_logits(_weights((2, 3)))}
    labels = np.arange(9) % 2
    table = prediction_disagreement(ds, labels=labels, predictors=predictors)
    for c in (0, 1):
        top = table[table["cluster"] == c].head(2)
        assert set(zip(top["reference_class"], top["predicted_class"])) == {
            ("bird", "fish"), ("fish", "bird")}
        assert (top["consensus_fraction"] == 1.0).all()
    story = summarize_clusters(ds, labels, disagreement=table)[1]
    assert "where the other cluster's model predicts" in story.statements[0].text


def test_one_cluster_gives_a_note(ds):
    out = prediction_disagreement(ds, labels=np.zeros(9, int),
                                  predictors={0: linear_logits(_weights())})
    assert out.empty and "at least 2 cluster models" in out.attrs["note"]
    assert list(out.columns[:3]) == ["cluster", "reference_class", "predicted_class"]
    fig = ep.disagreement_heatmap(out)
    assert fig.layout.meta["name"] == "prediction_disagreement" and not fig.data
    assert "at least 2 cluster models" in fig.layout.title.text
    # a model without clients is not "in use"
    out = prediction_disagreement(ds, labels=np.zeros(9, int), predictors={
        0: linear_logits(_weights()), 5: linear_logits(_weights((0, 1)))})
    assert out.empty and "has 1" in out.attrs["note"]


def test_story_names_the_swap_with_the_tables_numbers(ds, table):
    stories = summarize_clusters(ds, ds.true_groups, disagreement=table)
    st = [s for s in stories[2].statements if s.figure_name == "prediction_disagreement"]
    assert len(st) == 2
    assert st[0].text.startswith("its model swaps 'cat' and 'dog': it predicts ")
    for s in st:
        ref, pred = ("cat", "dog") if "predicts 'dog' where" in s.text else ("dog", "cat")
        row = table[(table["cluster"] == 2) & (table["reference_class"] == ref)
                    & (table["predicted_class"] == pred)].iloc[0]
        assert s.value == row["fraction"]
        assert (f"predicts '{pred}' where the other clusters' models predict '{ref}' "
                f"({pct(row['fraction'])} of {int(row['n'])} such inputs)") in s.text
    # the faithful models get no disagreement statement
    for c in (0, 1):
        assert not [s for s in stories[c].statements
                    if s.figure_name == "prediction_disagreement"]


def test_strong_disagreement_comes_before_the_surrogate(ds, table):
    from fedcore.explain import client_descriptors, explain_membership

    membership = explain_membership(client_descriptors(ds), ds.true_groups)
    story = summarize_clusters(ds, ds.true_groups, membership, disagreement=table)[2]
    names = [s.figure_name for s in story.statements]
    assert names[:2] == ["prediction_disagreement"] * 2
    assert any(n.startswith("membership") for n in names[2:])


def test_weak_or_thin_cells_are_not_told(ds):
    rows = [dict(cluster=0, reference_class="cat", predicted_class="dog", fraction=0.25, n=40,
                 count=10, consensus_fraction=1.0, reference_index=0, predicted_index=1,
                 disagreement_rate=0.1, rank=1),
            dict(cluster=0, reference_class="bird", predicted_class="fish", fraction=1.0,
                 n=3, count=3, consensus_fraction=1.0, reference_index=2,
                 predicted_index=3, disagreement_rate=0.1, rank=2),
            dict(cluster=0, reference_class="fish", predicted_class="cat", fraction=0.4,
                 n=50, count=20, consensus_fraction=1.0, reference_index=3,
                 predicted_index=0, disagreement_rate=0.1, rank=3)]
    table = pd.DataFrame(rows)
    table.attrs["n_models"] = 3
    story = summarize_clusters(ds, np.arange(9) % 3, disagreement=table)[0]
    st = [s for s in story.statements if s.figure_name == "prediction_disagreement"]
    assert [s.value for s in st] == [0.4]  # 25% is below the threshold, n=3 too thin
    assert st[0].text == ("its model predicts 'cat' where the other clusters' models predict "
                          "'fish' (40% of 50 such inputs)")


def test_consensus_vote_breaks_ties_by_probability():
    predicted = np.array([[0, 1], [1, 1], [2, 0]])  # 3 models, 2 inputs
    probs = np.zeros((3, 2, 3))
    probs[np.arange(3)[:, None], np.arange(2)[None], predicted] = 0.6
    probs[2, 0, 2] = 0.9  # input 0: 1-1-1 tie, model 2 is the most confident
    consensus, share = consensus_vote(predicted, probs)
    assert list(consensus) == [2, 1]
    np.testing.assert_allclose(share, [1 / 3, 2 / 3])


class _LinearModel:
    """Stands in for a Keras model: called on a batch, returns logits."""

    def __init__(self, flat):
        self.W = np.asarray(flat, dtype=np.float64).reshape(6, 4)

    def __call__(self, X, training=False):
        return np.asarray(X, dtype=np.float64) @ self.W


def _result(ds) -> SimulationResult:
    models = {0: _weights().ravel(), 1: _weights().ravel(), 2: _weights((0, 1)).ravel()}
    return SimulationResult("oracle", {}, {}, ds.client_ids, ds.true_groups, ds.true_groups,
                            ds.true_groups[None], pd.DataFrame(), pd.DataFrame(),
                            models=models, model_spec={"kind": "logreg", "hidden": []})


def test_explain_all_bundle_figure_and_registry(ds):
    res = _result(ds)
    b = explain_all(ds, res, seed=0, model_attributions=False, model_descriptors=False,
                    engine_or_model_builder=_LinearModel)
    assert b.errors == [] and "disagreement" in b.timings
    top = b.disagreement[b.disagreement["cluster"] == 2].head(2)
    assert set(top["reference_class"]) == {"cat", "dog"} and (top["fraction"] > 0.95).all()
    assert "its model swaps 'cat' and 'dog'" in b.stories[2].text()
    figs = ep.explanation_figures(b)
    fig = figs["prediction_disagreement"]
    assert fig.layout.meta["name"] == "prediction_disagreement"
    assert "differs on" in fig.layout.annotations[2].text
    z = np.asarray(fig.data[2].z, dtype=float)  # cluster 2: rows = consensus, cols = predicted
    row = top[top["reference_class"] == "cat"].iloc[0]
    assert z[0, 1] == pytest.approx(row["fraction"]) and np.isnan(z[0, 0])
    cited = {s.figure_name for story in b.stories for s in story.statements}
    assert cited <= set(figs)
    entry = EXPLAINERS["disagreement"]
    assert entry.needs_result and entry.figures == ("prediction_disagreement",)
    assert entry.defaults() == {"max_rows": 2000, "seed": 0}
    # a re-clustering: the models were not trained for it
    other = explain_all(ds, res, labels=np.arange(9) % 2, model_attributions=False,
                        model_descriptors=False, engine_or_model_builder=_LinearModel)
    assert other.disagreement is None
    assert any("prediction disagreement skipped" in e for e in other.errors)
    # turned off, or a single model in use
    off = explain_all(ds, res, model_attributions=False, model_descriptors=False,
                      disagreement=False, engine_or_model_builder=_LinearModel)
    assert off.disagreement is None and off.errors == []
    single = explain_all(ds, res, labels=np.zeros(9, int), model_attributions=False,
                         model_descriptors=False, engine_or_model_builder=_LinearModel)
    assert single.disagreement is None
