"""Bundled per-station time series (series pools for the ``forecasting`` scenario).

Each pool has one row per station and day on which the target was measured
(``pool.time``), the target's value in ``y`` (regression) and the covariates measured
that day in ``X``. A day without a target value has no row: windows touching it are
dropped by :func:`fedcore.partition.timeseries.make_windows`. Provenance, licences and
citations are in ``data/README.md``.

* ``nox`` — daily mean NOx (ppb) at 13 Swiss sites in 2004, R package robustbase,
  ``ambientNOxCH`` (GPL >= 2). Ground truth: the site type given in the dataset's
  documentation (``man/ambientNOxCH.Rd``), see :data:`NOX_SITES`.
* ``weather_temp`` — daily mean temperature (°C) in 5 cities, 2016-2017, R package
  mosaicData, ``Weather`` (GPL >= 2; Weather Underground).
* ``beijing_pm25`` — daily mean PM2.5 (µg/m³) at 12 Beijing stations, 2013-2017, from
  ``data/beijing_daily.csv.gz`` (Zhang et al., 2017; CC BY 4.0).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from ..dataset import PooledData
from ..partition.timeseries import calendar_features
from .bundled_files import data_file, freeze
from .column_encoding import impute_median
from .rdata import load_rdataset

#: Site types of the ambientNOxCH stations, in group-id order.
SITE_TYPES = ("motorway", "town", "rural/elevated")

#: code -> (place, site type, Swiss km east, km north, metres above sea level, network),
#: from the station descriptions of robustbase's ``man/ambientNOxCH.Rd``. "motorway":
#: at road level within 100 m of the A2 (ad, ef, re); "rural/elevated": a wooded hill
#: 190 m above Baden (la) and an alp 649 m above the lake of Lucerne (ri); "town": the
#: other eight, in or at the edge of towns (se is 35 m above and 250 m from the A14 at
#: the edge of Lucerne, so a town site, not a roadside one).
NOX_SITES = {
    "ad": ("Altdorf, 100 m from motorway A2", "motorway", 690.175, 193.55, 438, "inLuft"),
    "ba": ("Baden, town centre", "town", 666.075, 257.972, 377, "inLuft"),
    "ef": ("Erstfeld, 5 m from motorway A2", "motorway", 691.43, 187.69, 457, "MFM-U"),
    "la": ("Laegern, wooded hill", "rural/elevated", 669.8, 259.0, 690, "NABEL"),
    "lu": ("Lucerne, town centre", "town", 666.19, 211.975, 460, "inLuft"),
    "re": ("Reiden, 5 m from motorway A2", "motorway", 639.56, 232.11, 462, "MFM-U"),
    "ri": ("Rigi Seebodenalp, alp", "rural/elevated", 677.9, 213.5, 1030, "NABEL"),
    "se": ("Sedel, edge of Lucerne", "town", 665.5, 213.41, 484, "inLuft"),
    "si": ("Sisseln, industrial area", "town", 640.725, 266.25, 305, "inLuft"),
    "st": ("Stans, edge of town", "town", 670.85, 201.025, 438, "inLuft"),
    "su": ("Suhr, town centre", "town", 648.49, 246.985, 403, "inLuft"),
    "sz": ("Schwyz, near a shopping centre", "town", 691.92, 208.03, 470, "inLuft"),
    "zg": ("Zug, town centre", "town", 681.625, 224.625, 420, "inLuft"),
}


def _dates(values) -> np.ndarray:
    return pd.to_datetime(pd.Series(values)).to_numpy().astype("datetime64[D]")


@functools.cache
def load_nox() -> PooledData:
    """Swiss ambient NOx, 13 sites x 366 days; covariates: the day's calendar."""
    wide = load_rdataset("robustbase", "ambientNOxCH")
    long = wide.melt(id_vars="date", var_name="site", value_name="NOx")
    missing = int(long["NOx"].isna().sum())
    long = long.dropna(subset=["NOx"]).sort_values(["site", "date"], kind="stable")
    time = _dates(long["date"])
    X, names = calendar_features(time, "sin-cos")
    meta = pd.DataFrame.from_dict(NOX_SITES, orient="index", columns=[
        "place", "site_type", "east_km", "north_km", "altitude_m", "network"])
    meta.index.name = "client"
    groups = {code: SITE_TYPES.index(row[1]) for code, row in NOX_SITES.items()}
    return freeze(PooledData(
        X=X.astype(np.float32), y=long["NOx"].to_numpy(dtype=np.float32),
        feature_names=names, label_names=["NOx"], input_shape=(X.shape[1],),
        client_column=long["site"].to_numpy().astype(str), name="nox", task="regression",
        time=time, client_groups=groups, client_metadata=meta,
        description=f"Swiss ambient NOx (ppb), 13 sites, daily 2004; target: NOx; "
                    f"{missing} site-days without a value have no row; true groups: site "
                    "type (motorway, town, rural/elevated)"))


def _fahrenheit_to_celsius(values) -> np.ndarray:
    return (np.asarray(values, dtype=np.float64) - 32.0) * 5.0 / 9.0


@functools.cache
def weather_frame() -> pd.DataFrame:
    """mosaicData ``Weather`` in SI units with event flags (one row per city and day).

    Temperatures and dew points in °C, pressure in hPa, visibility and wind in km and
    km/h, precipitation in mm (``T``, a trace, is 0 mm with ``precip_trace`` = 1).
    ``low_wind`` (missing on 1,326 of 3,655 days) and the text ``events`` are dropped;
    ``rain``, ``snow``, ``fog`` and ``thunderstorm`` flag the events of the day.
    """
    raw = load_rdataset("mosaicData", "Weather").sort_values(["city", "date"], kind="stable")
    out = pd.DataFrame({"city": raw["city"].astype(str).to_numpy(),
                        "date": _dates(raw["date"])})
    for col in ("high_temp", "avg_temp", "low_temp", "high_dewpt", "avg_dewpt",
                "low_dewpt"):
        out[col] = _fahrenheit_to_celsius(raw[col])
    for col in ("high_humidity", "avg_humidity", "low_humidity"):
        out[col] = raw[col].to_numpy(dtype=np.float64)
    for col in ("high_hg", "avg_hg", "low_hg"):
        out[col.replace("_hg", "_pressure_hpa")] = raw[col].to_numpy(dtype=float) * 33.8639
    for col in ("high_vis", "avg_vis", "low_vis"):
        out[col + "_km"] = raw[col].to_numpy(dtype=float) * 1.609344
    for col in ("high_wind", "avg_wind"):
        out[col + "_kmh"] = raw[col].to_numpy(dtype=float) * 1.609344
    precip = raw["precip"].astype(str).str.strip()
    out["precip_trace"] = (precip == "T").to_numpy(dtype=float)
    out["precip_mm"] = pd.to_numeric(precip.replace("T", "0"),
                                     errors="coerce").to_numpy() * 25.4
    events = raw["events"].fillna("").astype(str)
    for flag in ("Rain", "Snow", "Fog", "Thunderstorm"):
        out[flag.lower()] = events.str.contains(flag).to_numpy(dtype=float)
    return out.reset_index(drop=True)


#: Weather covariates of ``weather_temp`` (the day's temperatures are left out so a
#: same-day model does not read the target off its own range).
WEATHER_COVARIATES = ("avg_dewpt", "avg_humidity", "avg_pressure_hpa", "avg_vis_km",
                      "avg_wind_kmh", "high_wind_kmh", "precip_mm", "precip_trace", "rain",
                      "snow", "fog", "thunderstorm")


@functools.cache
def load_weather_temp() -> PooledData:
    """Daily mean temperature (°C) of 5 cities, 2016-2017, with the day's weather."""
    df = weather_frame()
    notes: list[str] = []
    X, names, _ = impute_median(df[list(WEATHER_COVARIATES)].to_numpy(dtype=np.float64),
                                list(WEATHER_COVARIATES), "mosaicData::Weather", None, notes)
    return freeze(PooledData(
        X=X.astype(np.float32), y=df["avg_temp"].to_numpy(dtype=np.float32),
        feature_names=names, label_names=["avg_temp_c"], input_shape=(X.shape[1],),
        client_column=df["city"].to_numpy().astype(str), name="weather_temp",
        task="regression", time=df["date"].to_numpy(),
        description="Daily weather of Auckland, Beijing, Chicago, Mumbai and San Diego, "
                    "2016-2017; target: mean temperature (°C). " + "; ".join(notes)))


BEIJING_COVARIATES = ("PM10", "SO2", "NO2", "CO", "O3", "TEMP", "PRES", "DEWP", "WSPM",
                      "RAIN")


@functools.cache
def load_beijing_pm25() -> PooledData:
    """Daily mean PM2.5 (µg/m³) at 12 Beijing stations with the day's pollutants/weather.

    Missing covariates are carried forward from the station's previous day (causal: a
    forecaster has that value), then any left at a series start get the column median.
    """
    df = pd.read_csv(data_file("beijing_daily.csv.gz"), dtype={"station": str})
    df["date"] = pd.to_datetime(df["date"])
    df = df.sort_values(["station", "date"], kind="stable").reset_index(drop=True)
    cols = list(BEIJING_COVARIATES)
    gaps = int(df[cols].isna().to_numpy().sum())
    df[cols] = df.groupby("station")[cols].ffill()
    no_target = df["PM2.5"].isna().to_numpy()
    df = df[~no_target]
    notes = [f"{gaps} missing covariate values carried forward from the station's "
             f"previous day", f"{int(no_target.sum())} station-days without PM2.5 have "
             "no row"]
    X, names, _ = impute_median(df[cols].to_numpy(dtype=np.float64), cols,
                                "beijing_daily.csv.gz", None, notes)
    return freeze(PooledData(
        X=X.astype(np.float32), y=df["PM2.5"].to_numpy(dtype=np.float32),
        feature_names=names, label_names=["PM2.5"], input_shape=(X.shape[1],),
        client_column=df["station"].to_numpy().astype(str), name="beijing_pm25",
        task="regression", time=df["date"].to_numpy().astype("datetime64[D]"),
        description="Beijing air quality, 12 stations, daily 2013-2017; target: PM2.5 "
                    "(µg/m³). " + "; ".join(notes)))
