"""Explanation figures and the explain_all bundle / registry."""

import numpy as np
import pytest

from fedcore.explain import EXPLAINERS, explain_all
from fedcore.explain.sanity import rotated_bars_federation, shifted_feature_federation
from fedcore.params import Param
from fedcore.plots import explain_plots as ep


@pytest.fixture(scope="module")
def bundle():
    ds = shifted_feature_federation(n_clients=20, seed=2)
    return ds, explain_all(ds, labels=ds.true_groups, seed=0)


def test_bundle_contents_and_registry(bundle):
    ds, b = bundle
    assert b.membership.trustworthy
    assert b.divergence.groupby("cluster")["feature"].first().tolist() == ["feature_3"] * 2
    assert b.model_attributions is None and b.errors == []
    assert set(b.timings) >= {"descriptors", "membership", "divergence", "summary"}
    assert len(b.stories) == 2 and "feature_3" in b.summary_text()
    assert set(EXPLAINERS) == {"membership", "divergence", "label_divergence", "cluster_models",
                               "disagreement", "summary"}
    assert b.disagreement is None  # no result, no cluster models to compare
    for e in EXPLAINERS.values():
        assert callable(e.function) and e.description
        assert all(isinstance(spec, Param) for spec in e.params.values())
    assert EXPLAINERS["divergence"].defaults() == {"measure": "smd", "split": "train"}
    assert EXPLAINERS["cluster_models"].needs_result


def test_membership_figures(bundle):
    _, b = bundle
    m = b.membership
    fig = ep.shap_bar(m.ranking, top=5, fidelity=m.fidelity, trustworthy=m.trustworthy)
    assert fig.layout.meta["name"] == "membership_shap_bar"
    assert "(fidelity 100%)" in fig.layout.title.text
    assert len(fig.data) == 2
    assert list(fig.data[0].y)[-1].endswith("feature_3")  # top bar is drawn last (at the top)
    np.testing.assert_allclose(sorted(fig.data[0].x, reverse=True),
                               m.top(0, 5)["mean_abs_shap"].to_numpy())
    src = ep.shap_bar(m.source_ranking, fidelity=0.55, trustworthy=False)
    assert src.layout.meta["name"] == "membership_source_bar"
    assert "55% - not reliable" in src.layout.title.text
    bee = ep.shap_beeswarm(m.long_shap(top=4), cluster=1, fidelity=None)
    assert bee.layout.meta["name"] == "membership_shap_beeswarm"
    assert "cannot be estimated" in bee.layout.title.text
    assert len(bee.data[0].x) == 20 * 4


def test_divergence_and_label_figures(bundle):
    _, b = bundle
    fig = ep.divergence_heatmap(b.divergence, b.label_divergence, top=3)
    assert fig.layout.meta["name"] == "divergence_heatmap"
    heat, labels = fig.data
    assert list(heat.x) == ["feature_3"] + list(heat.x[1:]) and len(heat.x) == 3
    assert heat.z[1][0] == pytest.approx(
        b.divergence.query("cluster == 1 and feature == 'feature_3'")["value"].iloc[0])
    assert list(labels.x) == ["negative", "positive"]  # dataset order, not by difference
    bars = ep.label_divergence_bars(b.label_divergence, b.label_shift)
    assert bars.layout.meta["name"] == "label_divergence"
    assert "JS" in bars.layout.annotations[0].text


def test_model_attribution_and_pixel_figures():
    import pandas as pd

    att = pd.DataFrame({"model": ["cluster 0"] * 3 + ["FedAvg"] * 3,
                        "feature": ["a", "b", "c"] * 2,
                        "mean_abs_shap": [3.0, 1.0, 0.5, 0.2, 2.0, 1.0],
                        "rank": [1, 2, 3, 3, 1, 2]})
    fig = ep.cluster_model_attribution_bars(att, top=1)
    assert fig.layout.meta["name"] == "cluster_model_attribution"
    assert [t.name for t in fig.data] == ["cluster 0", "FedAvg"]
    assert list(fig.data[0].x) == ["a", "b"] and list(fig.data[1].y) == [0.2, 2.0]
    ds = rotated_bars_federation(n_clients=4, n_samples=10)
    b = explain_all(ds, labels=ds.true_groups)
    pix = ep.pixel_difference_heatmap(b.pixel_difference)
    assert pix.layout.meta["name"] == "pixel_difference"
    assert np.asarray(pix.data[0].z).shape == (28, 28)
    empty = ep.cluster_model_attribution_bars(None)
    assert empty.layout.meta["name"] == "cluster_model_attribution" and not empty.data


def test_explanation_figures_cover_every_cited_figure(bundle):
    _, b = bundle
    figs = ep.explanation_figures(b)
    cited = {s.figure_name for story in b.stories for s in story.statements}
    assert cited <= set(figs)
    assert set(figs) == {"membership_shap_bar", "membership_source_bar", "divergence_heatmap",
                         "label_divergence", "membership_shap_beeswarm"}
    assert all(f.layout.meta["name"] == k for k, f in figs.items())


def test_attribution_maps_put_pixels_back_in_place():
    import pandas as pd

    values = np.zeros(16)
    values[5] = 1.0  # row 1, col 1 of a 4x4 image
    att = pd.DataFrame({"model": "cluster 0", "feature": [f"p{i}" for i in range(16)],
                        "feature_index": np.arange(16), "mean_abs_shap": values,
                        "rank": np.argsort(np.argsort(-values)) + 1}).sort_values("rank")
    fig = ep.cluster_model_attribution_maps(att, (4, 4))
    assert fig.layout.meta["name"] == "cluster_model_attribution_map"
    z = np.asarray(fig.data[0].z)
    assert z.shape == (4, 4) and z[1, 1] == 1.0 and z.sum() == 1.0
