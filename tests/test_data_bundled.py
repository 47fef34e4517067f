"""The bundled datasets: shapes, clients, tasks and caching (readers: test_data_readers.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fedcore.data import (
    BUNDLED,
    DATA_DIR,
    load_bundled,
    resolve_dataset,
)


def test_heart_bundle():
    pool = load_bundled("heart")
    assert pool.X.shape == (920, 27) and pool.label_names == ["no disease", "disease"]
    assert np.bincount(pool.y).tolist() == [411, 509]
    assert "id" not in pool.feature_names and "cp=typical angina" in pool.feature_names
    chol_missing = pool.X[:, pool.feature_names.index("chol_missing")]
    swiss = pool.client_column == "Switzerland"
    assert chol_missing[swiss].min() == 1 and chol_missing.sum() == 30 + 172
    assert np.isfinite(pool.X).all() and not pool.X.flags.writeable
    fed = resolve_dataset("heart")
    assert fed.client_ids == ["Cleveland", "Hungary", "Switzerland", "VA Long Beach"]
    assert (fed.train_sizes() + fed.test_sizes()).tolist() == [304, 293, 123, 200]


def test_beijing_task_is_next_day_pm25():
    pool = load_bundled("beijing")
    assert len(np.unique(pool.client_column)) == 12
    assert pool.feature_names[-2:] == ["doy_sin", "doy_cos"]
    raw = pd.read_csv(DATA_DIR / "beijing_daily.csv.gz")
    first = raw[raw["station"] == "Aotizhongxin"].sort_values("date")
    station_rows = np.flatnonzero(pool.client_column == "Aotizhongxin")
    # row 0 of the station = 2013-03-01; its label is about 2013-03-02
    assert pool.X[station_rows[0], pool.feature_names.index("PM2.5")] == pytest.approx(
        first["PM2.5"].iloc[0], abs=1e-3)
    assert pool.y[station_rows[0]] == int(first["PM2.5"].iloc[1] > 75)
    assert 0.3 < pool.y.mean() < 0.5
    assert BUNDLED["beijing"].natural_clients and not BUNDLED["mnist_5k"].natural_clients


def test_image_bundles():
    mnist = load_bundled("mnist_5k")
    assert mnist.X.shape == (5000, 784) and mnist.input_shape == (28, 28, 1)
    assert mnist.is_image and mnist.X.min() == 0 and mnist.X.max() == 1
    assert np.bincount(mnist.y).tolist() == [500] * 10
    digits = load_bundled("digits")
    assert digits.X.shape == (1797, 64) and digits.input_shape == (8, 8, 1)
    assert digits.X.max() == 1 and load_bundled("digits") is digits  # cached
