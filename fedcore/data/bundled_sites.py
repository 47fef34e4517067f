"""Bundled multi-site tables whose sites differ (natural clients), read from R packages.

* ``weather_rain`` — will it rain tomorrow, in 5 cities with sharply different
  climates (mosaicData ``Weather``, GPL >= 2).
* ``opt`` — Obstetrics and Periodontal Therapy trial (Michalowicz et al., 2006,
  NEJM 355:1885-1894), 823 women at 4 clinics; target: birthweight in grams (R package
  medicaldata, MIT licence). Baseline (visit 1) variables only.
* ``rand_hie`` — RAND Health Insurance Experiment (Newhouse, 1999; data of Cameron &
  Trivedi, 2005, via R package sampleSelection, GPL >= 2), 5,912 people at 6 sites;
  target: any covered medical spending in the person's first study year.

Provenance, licences and citations are in ``data/README.md``.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from ..dataset import PooledData
from ..partition.timeseries import calendar_features
from .bundled_files import freeze
from .bundled_series import weather_frame
from .rdata import load_rdataset
from .validation import encode_frame


@functools.cache
def load_weather_rain() -> PooledData:
    """Rain tomorrow (the next day's events include rain) from today's weather."""
    df = weather_frame()
    nxt = df.groupby("city")[["date", "rain"]].shift(-1)
    keep = ((nxt["date"] - df["date"]) == pd.Timedelta(days=1)).to_numpy()
    features = [c for c in df.columns if c not in ("city", "date")]
    cal, cal_names = calendar_features(df["date"].to_numpy(), "sin-cos")
    X = np.column_stack([df[features].to_numpy(dtype=np.float64), cal[:, 2:]])[keep]
    y = nxt["rain"].to_numpy()[keep].astype(np.int64)
    return freeze(PooledData(
        X=X.astype(np.float32), y=y, feature_names=features + cal_names[2:],
        label_names=["no rain tomorrow", "rain tomorrow"], input_shape=(X.shape[1],),
        client_column=df["city"].to_numpy()[keep].astype(str), name="weather_rain",
        description="Daily weather of 5 cities, 2016-2017; target: the next day's "
                    f"events include rain; dropped {int((~keep).sum())} last days "
                    "without a next day"))


#: OPT baseline variables (visit 1, before any treatment effect could show).
OPT_BASELINE = (
    "Group", "Age", "Black", "White", "Nat.Am", "Asian", "Hisp", "Education",
    "Public.Asstce", "Hypertension", "Diabetes", "BMI", "Use.Tob", "BL.Cig.Day", "Use.Alc",
    "BL.Drks.Day", "Drug.Add", "Prev.preg", "N.prev.preg", "Live.PTB", "Any.stillbirth",
    "Spont.ab", "Induced.ab", "N.living.kids", "N.qualifying.teeth", "BL.GE", "BL..BOP",
    "BL.PD.avg", "BL..PD.4", "BL..PD.5", "BL.CAL.avg", "BL..CAL.2", "BL..CAL.3",
    "BL.Calc.I", "BL.Pl.I")
OPT_CLINICS = {"KY": "University of Kentucky", "MN": "Hennepin County Medical Center",
               "MS": "University of Mississippi Medical Center", "NY": "Harlem Hospital"}


def _opt_frame() -> tuple[pd.DataFrame, list[str]]:
    """OPT baseline table with the documented structural blanks filled.

    The codebook says a blank count means "missing" OR "does not apply": cigarettes per
    day of a non-smoker, drinks per day of a non-drinker, previous pregnancies and
    living children of a first pregnancy are 0, and a first pregnancy had no previous
    preterm birth, stillbirth or abortion ("No"). Only true gaps are left for imputation.
    """
    raw = load_rdataset("medicaldata", "opt")
    df = raw[["Clinic", *OPT_BASELINE, "Birthweight"]].copy()
    for col in df.select_dtypes(include="object").columns:
        df[col] = df[col].astype("string").str.strip().replace("", pd.NA)
    df["Hypertension"] = df["Hypertension"].map({"Y": "Yes", "N": "No"})
    first = (df["Prev.preg"] == "No").fillna(False).to_numpy()
    for col, flag in (("BL.Cig.Day", "Use.Tob"), ("BL.Drks.Day", "Use.Alc")):
        df.loc[(df[flag] == "No").fillna(False).to_numpy(), col] = 0.0
    df.loc[first, ["N.prev.preg", "N.living.kids"]] = 0.0
    df.loc[first, ["Live.PTB", "Any.stillbirth", "Spont.ab", "Induced.ab"]] = "No"
    notes = ["structural blanks filled: 0 cigarettes/drinks per day for non-smokers/"
             "non-drinkers; 0 previous pregnancies/children and 'No' for previous "
             "outcomes on a first pregnancy"]
    return df, notes


@functools.cache
def load_opt() -> PooledData:
    """OPT trial, 4 clinics; target: birthweight (g) from baseline variables."""
    df, notes = _opt_frame()
    enc = encode_frame(df, "medicaldata::opt", "Clinic", "Birthweight", task="regression")
    meta = pd.DataFrame({"centre": pd.Series(OPT_CLINICS)}).rename_axis("client")
    return freeze(PooledData(
        X=enc.X, y=enc.y, feature_names=enc.feature_names, label_names=["Birthweight"],
        input_shape=(enc.X.shape[1],), client_column=enc.clients, name="opt",
        task="regression", client_metadata=meta,
        description="Obstetrics and Periodontal Therapy trial, 4 clinics; target: "
                    "birthweight (g). " + "; ".join(notes + enc.notes)))


#: The covariates of Cameron & Trivedi (2005, Sec. 16.6) for RAND HIE medical spending.
RAND_FEATURES = ("logc", "idp", "lpi", "fmde", "physlm", "disea", "hlthg", "hlthf", "hlthp",
                 "linc", "lfam", "educdec", "xage", "female", "child", "fchild", "black")


@functools.cache
def load_rand_hie() -> PooledData:
    """RAND HIE, 6 sites, one row per person (first study year); target: any spending."""
    raw = load_rdataset("sampleSelection", "RandHIE")
    first = raw.sort_values(["zper", "year"], kind="stable").groupby("zper").head(1)
    df = first[list(RAND_FEATURES)].copy()
    df.insert(0, "site", "site " + first["site"].astype(int).astype(str))
    df["spending"] = np.where(first["binexp"].to_numpy() > 0, "any", "none")
    enc = encode_frame(df, "sampleSelection::RandHIE", "site", "spending")
    order = [enc.label_names.index("none"), enc.label_names.index("any")]
    y = np.argsort(order)[enc.y].astype(np.int64)
    return freeze(PooledData(
        X=enc.X, y=y, feature_names=enc.feature_names,
        label_names=["no medical spending", "any medical spending"],
        input_shape=(enc.X.shape[1],), client_column=enc.clients, name="rand_hie",
        description=f"RAND Health Insurance Experiment, 6 sites, {len(df):,} people "
                    "(first study year); target: any covered medical spending. "
                    + "; ".join(enc.notes)))
