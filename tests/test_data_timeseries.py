"""Forecasting windows, the chronological split and the persistence baseline, on tiny
hand-made series whose every window is written out by hand."""

import numpy as np
import pandas as pd
import pytest

from fedcore.data import load_bundled
from fedcore.dataset import PooledData
from fedcore.errors import ConfigError, DataError
from fedcore.forecast_baseline import persistence_baseline, persistence_scores
from fedcore.partition import make_scenario
from fedcore.partition.holdout import validation_view
from fedcore.partition.timeseries import (
    calendar_features,
    chronological_cut,
    chronological_positions,
    make_windows,
)


def days(*items):
    return np.array([f"2024-01-{d:02d}" for d in items], dtype="datetime64[D]")


def test_windows_by_hand_with_a_gap():
    # 2024-01-04 is missing: windows whose lag or target falls on it are dropped
    values = np.array([1.0, 2, 3, 5, 6, 7, 8])
    w = make_windows(values, days(1, 2, 3, 5, 6, 7, 8), np.array(["a"] * 7), "y", lags=2,
                     horizon=1, calendar="none")
    assert w.feature_names == ["y_t", "y_t-1"]
    np.testing.assert_array_equal(w.X, [[2, 1], [6, 5], [7, 6]])
    np.testing.assert_array_equal(w.y, [3, 7, 8])
    np.testing.assert_array_equal(w.target_time, days(3, 7, 8))
    np.testing.assert_array_equal(w.origin, days(2, 6, 7))
    np.testing.assert_array_equal(w.last_value, [2, 6, 7])
    # origins 2..7 fit in the span (6 candidates); 3, 4 and 5 touch the gap
    assert w.counts["candidates"] == 6 and w.counts["kept"] == 3
    assert w.counts["dropped_missing"] == 3 and w.counts["clients"]["a"]["kept"] == 3


def test_horizon_exogenous_and_two_clients():
    values = np.array([10.0, 11, 12, 13, 20, 21, 22, 23])
    clients = np.array(["b"] * 4 + ["a"] * 4)
    exog = np.arange(8, dtype=float)[:, None] * 100
    w = make_windows(values, np.concatenate([days(1, 2, 3, 4)] * 2), clients, "v", lags=1,
                     horizon=2, exog=exog, exog_names=["rain"], calendar="none")
    # clients in sorted order; origin t uses v(t) and rain(t), target v(t+2)
    assert w.feature_names == ["v_t", "rain"]
    np.testing.assert_array_equal(w.clients, ["a", "a", "b", "b"])
    np.testing.assert_array_equal(w.X, [[20, 400], [21, 500], [10, 0], [11, 100]])
    np.testing.assert_array_equal(w.y, [22, 23, 12, 13])


def test_calendar_features_and_pool_calendar_columns_are_replaced():
    d = np.array(["2024-01-01", "2024-01-07"], dtype="datetime64[D]")  # Monday, Sunday
    X, names = calendar_features(d, "sin-cos")
    assert names == ["dow_sin", "dow_cos", "doy_sin", "doy_cos"]
    np.testing.assert_allclose(X[0], [0, 1, 0, 1], atol=1e-12)
    np.testing.assert_allclose(X[1, :2], [np.sin(2 * np.pi * 6 / 7), np.cos(2 * np.pi * 6 / 7)])
    X1, names1 = calendar_features(d, "one-hot")
    assert X1.shape == (2, 19) and X1[0, names1.index("dow=Mon")] == 1
    assert X1[1, names1.index("dow=Sun")] == 1 and X1[:, names1.index("month=Jan")].all()
    with pytest.raises(ConfigError, match="calendar must be one of"):
        calendar_features(d, "weekly")
    w = make_windows(np.arange(4.0), days(1, 2, 3, 4), np.array(["a"] * 4), "y", lags=1,
                     exog=np.ones((4, 2)), exog_names=["dow_sin", "rain"], calendar="sin-cos")
    assert w.feature_names == ["y_t", "rain", "dow_sin", "dow_cos", "doy_sin", "doy_cos"]
    np.testing.assert_allclose(w.X[:, 2:], calendar_features(days(2, 3, 4), "sin-cos")[0])


def test_bad_window_inputs():
    with pytest.raises(ConfigError, match="lags must be at least 1"):
        make_windows([1.0, 2], days(1, 2), np.array(["a", "a"]), "y", lags=0)
    with pytest.raises(DataError, match="missing or infinite"):
        make_windows([1.0, np.nan], days(1, 2), np.array(["a", "a"]), "y")
    with pytest.raises(DataError, match="two rows for the date 2024-01-02"):
        make_windows([1.0, 2, 3], days(1, 2, 2), np.array(["a"] * 3), "y")


def test_cut_by_fraction_and_by_date():
    when = np.concatenate([days(*range(1, 11))] * 2)
    cut = chronological_cut(when, 0.2)
    assert cut == np.datetime64("2024-01-08")  # 4 of 20 targets (days 9, 10) after it
    assert chronological_cut(when, 0.2, "2024-01-05") == np.datetime64("2024-01-05")
    with pytest.raises(ConfigError, match="not a date"):
        chronological_cut(when, 0.2, "soon")
    tr, te = chronological_positions(days(*range(1, 11)), cut, "a")
    assert tr.tolist() == list(range(8)) and te.tolist() == [8, 9]
    with pytest.raises(DataError, match="client 'a' has no test window"):
        chronological_positions(days(1, 2), cut, "a")


def series_pool(n_days=40):
    """Two stations; station 'hi' reads 100 + t, 'lo' reads 2 t with two missing days."""
    t = np.arange(n_days)
    time = np.datetime64("2024-03-01") + t
    keep_lo = ~np.isin(t, [10, 30])
    y = np.concatenate([100.0 + t, 2.0 * t[keep_lo]])
    when = np.concatenate([time, time[keep_lo]])
    clients = np.array(["hi"] * n_days + ["lo"] * int(keep_lo.sum()))
    X = np.column_stack([np.sin(y), np.cos(y)])
    return PooledData(X=X.astype(np.float32), y=y.astype(np.float32),
                      feature_names=["s", "c"], label_names=["level"], input_shape=(2,),
                      client_column=clients, name="toy", task="regression",
                      time=when.astype("datetime64[D]"), client_groups={"hi": 0, "lo": 1})


def test_forecasting_scenario_never_leaks_and_persistence_is_exact():
    ds = make_scenario(series_pool(), "forecasting", seed=0, test_fraction=0.25, lags=3)
    info = ds.provenance["forecasting"]
    cut = np.datetime64(info["cut"])
    assert ds.is_regression and ds.true_groups.tolist() == [0, 1]
    assert ds.provenance["split"] == "chronological"
    # rebuild every window's target date from the raw level: hi = 100 + t, lo = 2 t
    start = np.datetime64("2024-03-01")
    raw = ds.provenance["standardisation"]
    col = ds.feature_names.index("level_t")
    for i, cid in enumerate(ds.client_ids):
        for split, ys in (("train", ds.y_train[i]), ("test", ds.y_test[i])):
            t = ys - 100 if cid == "hi" else ys / 2
            when = start + t.astype(int)
            assert (when <= cut).all() if split == "train" else (when > cut).all()
        assert np.all(np.diff(ds.y_train[i]) > 0)  # time order kept
        last = ds.x_test[i][:, col] * raw["std"][col] + raw["mean"][col]
        step = 1 if cid == "hi" else 2
        np.testing.assert_allclose(last, ds.y_test[i] - step, rtol=1e-5)
    table = persistence_baseline(ds)
    assert table["client"].tolist() == ["hi", "lo"] and (table["method"] == "persistence").all()
    np.testing.assert_allclose(table["mae"], [1.0, 2.0], rtol=1e-4)
    np.testing.assert_allclose(table["rmse"], [1.0, 2.0], rtol=1e-4)
    # standardised with the training windows only
    train = np.concatenate(ds.x_train).astype(float)
    np.testing.assert_allclose(train.mean(axis=0), 0, atol=1e-5)
    assert abs(np.concatenate(ds.x_test)[:, col].mean()) > 0.5
    again = make_scenario(series_pool(), "forecasting", seed=7, test_fraction=0.25, lags=3)
    assert again.fingerprint() == ds.fingerprint()  # no random step


def test_persistence_scores_by_hand():
    table = persistence_scores(["a", "b"], [np.array([1.0, 3, 5]), np.array([2.0, 2])],
                               [np.array([0.0, 3, 8]), np.array([1.0, 4])])
    a, b = table.iloc[0], table.iloc[1]
    assert a["mae"] == pytest.approx(4 / 3) and a["rmse"] == pytest.approx(np.sqrt(10 / 3))
    assert a["r2"] == pytest.approx(1 - 10 / 8) and np.isnan(b["r2"])
    assert b["mae"] == pytest.approx(1.5) and b["n_test"] == 2


def test_forecasting_rules_and_errors():
    pool = series_pool()
    with pytest.raises(ConfigError, match="needs a regression dataset"):
        make_scenario(load_bundled("heart"), "forecasting")
    with pytest.raises(ConfigError, match="needs a classification dataset"):
        make_scenario(pool, "dirichlet")
    flat = PooledData(X=pool.X, y=pool.y, feature_names=["s", "c"], label_names=["level"],
                      input_shape=(2,), client_column=pool.client_column, name="flat",
                      task="regression")
    with pytest.raises(ConfigError, match="needs per-client time series"):
        make_scenario(flat, "forecasting")
    with pytest.raises(DataError, match="no test window"):
        make_scenario(pool, "forecasting", cut_date="2024-12-31")
    given = make_scenario(pool, "forecasting", cut_date="2024-03-20", true_groups="hi=1, lo=1")
    assert given.provenance["forecasting"]["cut"] == "2024-03-20"
    assert given.true_groups.tolist() == [1, 1]
    ds = make_scenario(pool, "forecasting", calendar="one-hot", exogenous=False, horizon=2)
    assert "s" not in ds.feature_names and "dow=Mon" in ds.feature_names
    np.testing.assert_allclose(persistence_baseline(ds)["mae"], [2.0, 4.0], rtol=1e-4)


def test_validation_view_of_a_forecast_is_the_latest_training_windows():
    ds = make_scenario(series_pool(), "forecasting", test_fraction=0.25)
    view = validation_view(ds, 0.25, seed=0)
    for i in range(ds.n_clients):
        assert view.y_train[i].max() < view.y_test[i].min()
        assert view.y_test[i].max() <= ds.y_train[i].max()
    assert view.is_regression
    assert persistence_baseline(view)["n_test"].tolist() == [len(y) for y in view.y_test]


def test_nox_forecast_has_site_type_ground_truth():
    ds = make_scenario(load_bundled("nox"), "forecasting")
    assert ds.n_clients == 13 and sorted(set(ds.true_groups.tolist())) == [0, 1, 2]
    groups = dict(zip(ds.client_ids, ds.true_groups.tolist()))
    assert groups["ef"] == groups["re"] == groups["ad"] == 0
    assert groups["ri"] == groups["la"] == 2 and groups["zg"] == 1
    assert ds.metadata.loc["ri", "altitude_m"] == 1030
    counts = ds.provenance["forecasting"]["windows"]
    assert counts["kept"] + counts["dropped_missing"] == counts["candidates"]
    assert all(np.isfinite(x).all() for x in ds.x_train + ds.x_test)
    assert pd.Series(ds.test_sizes()).min() > 0


@pytest.mark.parametrize("mode", ["per-client", "none"])
def test_persistence_undoes_every_standardisation(mode):
    ds = make_scenario(series_pool(), "forecasting", test_fraction=0.25, lags=2,
                       standardisation=mode)
    np.testing.assert_allclose(persistence_baseline(ds)["mae"], [1.0, 2.0], rtol=1e-4)
