"""Feature and label divergence between each cluster and the rest."""

import numpy as np
import pytest
from scipy.stats import wasserstein_distance

from fedcore.dataset import FederatedDataset
from fedcore.errors import ConfigError
from fedcore.explain import (
    cluster_feature_divergence,
    label_divergence,
    label_shift,
    pixel_difference,
)
from fedcore.explain.sanity import (
    label_skew_federation,
    rotated_bars_federation,
    shifted_feature_federation,
)


def test_shifted_feature_ranks_first_with_the_planted_size():
    ds = shifted_feature_federation(n_clients=20, shift=2.0, n_samples=200)
    for measure in ("smd", "wasserstein"):
        div = cluster_feature_divergence(ds, ds.true_groups, measure=measure)
        for c in (0, 1):
            part = div[div["cluster"] == c]
            assert part.iloc[0]["feature"] == "feature_3" and part.iloc[0]["rank"] == 1
            assert abs(part.iloc[1]["value"]) < 0.2
    smd = cluster_feature_divergence(ds, ds.true_groups)
    top = smd[smd["cluster"] == 1].iloc[0]
    assert top["value"] == pytest.approx(2.0, abs=0.15)  # shift of 2 sd, unit variances
    assert top["cluster_mean"] - top["rest_mean"] == pytest.approx(2.0, abs=0.1)
    assert smd[smd["cluster"] == 0].iloc[0]["value"] == pytest.approx(-top["value"])


def test_exact_values_on_a_tiny_federation():
    xs = [np.array([[0.0], [2.0]], np.float32), np.array([[4.0], [6.0]], np.float32)]
    ys = [np.array([0, 0]), np.array([0, 1])]
    ds = FederatedDataset(["a", "b"], xs, ys, xs, ys, ["x"], ["n", "p"], (1,))
    smd = cluster_feature_divergence(ds, [0, 1])
    row = smd[smd["cluster"] == 1].iloc[0]
    assert row["cluster_mean"] == 5.0 and row["rest_mean"] == 1.0
    assert row["value"] == pytest.approx(4.0 / 1.0)  # pooled sd = sqrt((1 + 1) / 2)
    w = cluster_feature_divergence(ds, [0, 1], measure="wasserstein")
    overall_sd = np.std([0, 2, 4, 6])
    assert w.iloc[0]["value"] == pytest.approx(wasserstein_distance([4, 6], [0, 2]) / overall_sd)
    ld = label_divergence(ds, [0, 1])
    r = ld[(ld["cluster"] == 1) & (ld["label"] == "p")].iloc[0]
    assert (r["cluster_fraction"], r["rest_fraction"], r["difference"]) == (0.5, 0.0, 0.5)
    js = label_shift(ds, [0, 1])
    # JS([.5,.5],[1,0]) in bits
    expected = 0.5 * (0.5 * np.log2(0.5 / 0.75) + 0.5 * np.log2(0.5 / 0.25)) + 0.5 * np.log2(
        1 / 0.75)
    assert js["js_divergence"].iloc[0] == pytest.approx(expected)
    assert js["n_clients"].tolist() == [1, 1]


def test_label_skew_shows_in_labels_not_features():
    ds = label_skew_federation(n_clients=20, majority=0.8, n_samples=200)
    ld = label_divergence(ds, ds.true_groups)
    first = ld[ld["cluster"] == 0].iloc[0]
    assert abs(first["difference"]) == pytest.approx(0.6, abs=0.06)
    assert label_shift(ds, ds.true_groups)["js_divergence"].min() > 0.2
    smd = cluster_feature_divergence(ds, ds.true_groups)
    assert smd["value"].abs().max() < 0.15
    mixed = (np.arange(20) // 2) % 2  # each cluster holds both true groups equally
    assert label_shift(ds, mixed)["js_divergence"].max() < 0.01


def test_images_use_readable_summaries_and_pixel_maps():
    ds = rotated_bars_federation(n_clients=6, n_samples=20)
    div = cluster_feature_divergence(ds, ds.true_groups)
    assert div[div["cluster"] == 1].iloc[0]["feature"] == "ink orientation (deg)"
    assert div["feature"].nunique() == 12
    pix = pixel_difference(ds, ds.true_groups)
    assert len(pix) == 2 * 28 * 28
    diff = pix[pix["cluster"] == 1]["difference"].to_numpy()
    assert np.abs(diff).max() > 0.1
    assert pixel_difference(shifted_feature_federation(n_clients=4), [0, 0, 1, 1]).empty


def test_noise_has_no_row_and_bad_measure_errors():
    ds = shifted_feature_federation(n_clients=6)
    div = cluster_feature_divergence(ds, [0, 0, 1, 1, -1, -1])
    assert set(div["cluster"]) == {0, 1}
    with pytest.raises(ConfigError):
        cluster_feature_divergence(ds, [0, 0, 1, 1, 0, 1], measure="kl")
