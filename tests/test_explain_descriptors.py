"""Client descriptors: names, exact values, limits, image summaries, model summaries."""

import numpy as np
import pandas as pd
import pytest

from fedcore.dataset import FederatedDataset
from fedcore.explain import client_descriptors, descriptor_source, image_sample_features
from fedcore.explain.sanity import rotated_bars_federation, shifted_feature_federation
from fedcore.results import Representation, SimulationResult


def _tiny():
    xs = [np.array([[1, 0, 5], [3, 1, 5]], np.float32), np.array([[10, 1, 5]], np.float32)]
    ys = [np.array([0, 1]), np.array([1])]
    return FederatedDataset(["a", "b"], xs, ys, xs, ys, ["age", "chol_missing", "const"],
                            ["healthy", "sick"], (3,))


def test_descriptor_values_and_names():
    d = client_descriptors(_tiny())
    assert list(d.index) == ["a", "b"]
    assert d.loc["a", "label: healthy"] == 0.5 and d.loc["b", "label: sick"] == 1.0
    assert d.loc["a", "mean: age"] == 2.0 and d.loc["b", "mean: age"] == 10.0
    assert d.loc["a", "std: age"] == 1.0
    assert d.loc["a", "q75: age"] == pytest.approx(2.5)
    # *_missing features are reported as a missing rate only
    assert d.loc["a", "missing: chol"] == 0.5 and d.loc["b", "missing: chol"] == 1.0
    assert not any("chol_missing" in c for c in d.columns)
    # constant columns (const feature, q of identical values) are dropped
    assert not any(c.endswith(": const") for c in d.columns)
    assert "n_train" in d.columns


def test_column_limit_keeps_priorities():
    ds = shifted_feature_federation(n_clients=6, n_features=50, n_samples=10)
    full = client_descriptors(ds, max_columns=1000)
    assert full.shape[1] == 2 + 50 * 5  # equal sizes: constant n_train is dropped
    assert "n_train" not in full.columns
    limited = client_descriptors(ds, max_columns=60)
    assert limited.shape[1] == 60
    assert "label: positive" in limited.columns
    assert sum(c.startswith("mean: ") for c in limited.columns) == 50


def test_image_summaries_capture_rotation():
    ds = rotated_bars_federation(n_clients=4, n_samples=20)
    d = client_descriptors(ds)
    assert d.shape[1] <= 200
    assert not any(c.startswith("mean: pixel") for c in d.columns)
    orient = d["mean: ink orientation (deg)"].to_numpy()
    assert abs(orient[0]) < 10 and abs(orient[1] - 60) < 10


def test_image_features_geometry():
    img = np.zeros((1, 8, 8))
    img[0, 1:7, 2] = 1.0  # vertical bar in column 2
    f = image_sample_features(img.reshape(1, 64), (8, 8, 1)).iloc[0]
    assert f["centre-of-mass col"] == pytest.approx(2.0)
    assert f["centre-of-mass row"] == pytest.approx(3.5)
    assert f["ink orientation (deg)"] == pytest.approx(0.0, abs=1e-6)
    assert f["mean intensity top-left"] == pytest.approx(3 / 16)
    horizontal = image_sample_features(img.transpose(0, 2, 1).reshape(1, 64), (8, 8)).iloc[0]
    assert abs(horizontal["ink orientation (deg)"]) == pytest.approx(90.0)


def test_model_descriptors_from_result():
    ds = _tiny()
    last = np.array([[3.0, 4.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0]])  # (in=1 kernel + bias) x C=2
    res = SimulationResult("x", {}, {}, ["a", "b"], None, np.zeros(2, int), np.zeros((1, 2)),
                           pd.DataFrame(), pd.DataFrame(), representations={
                               "updates": Representation("updates", X=np.array([[3., 4.],
                                                                                [1., 0.]])),
                               "last_layer": Representation("last_layer", X=last)})
    d = client_descriptors(ds, res)
    assert d.loc["a", "model: update norm"] == pytest.approx(5.0)
    # class of flat element j is j % C: class healthy = elements 0, 2
    assert d.loc["a", "last-layer norm: class healthy"] == pytest.approx(3.0)
    assert d.loc["a", "last-layer norm: class sick"] == pytest.approx(np.hypot(4, 1))
    assert d.loc["b", "last-layer norm: class healthy"] == pytest.approx(1.0)


def test_descriptor_source():
    assert descriptor_source("q25: chol") == "chol"
    assert descriptor_source("label: sick") == "label mix"
    assert descriptor_source("missing: chol") == "chol (missing)"
    assert descriptor_source("n_train") == "size"


def test_standardised_features_are_reported_in_original_units():
    ds = _tiny()
    ds.provenance["standardisation"] = {"mean": [50.0, 0.5, 0.0], "std": [10.0, 0.5, 1.0]}
    d = client_descriptors(ds)
    assert d.loc["a", "mean: age"] == pytest.approx(70.0)  # z = 2 -> 50 + 2 * 10
    assert d.loc["b", "missing: chol"] == pytest.approx(1.0)  # z = 1 -> 0.5 + 0.5
