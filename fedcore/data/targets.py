"""Regression targets of uploads, and a suggestion (never a decision) of the task.

A label column is read as a regression target only when the user says so
(``task="regression"``); :func:`suggest_task` looks at the values and says which task
they resemble and why, for the UI and the CLI to show next to the choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError
from .column_encoding import FLOAT32_MAX, row_label
from .limits import safe_name

#: More distinct label values than this cannot be classes.
DEFAULT_MAX_CLASSES = 100


def encode_target(values: pd.Series, column: str, name: str,
                  origin=None) -> tuple[np.ndarray, list[str]]:
    """A regression target: float32 values of a numeric, finite label column."""
    numeric = pd.to_numeric(values, errors="coerce")
    if pd.api.types.is_bool_dtype(values):
        numeric = pd.Series(np.nan, index=values.index)
    bad = (numeric.isna() & values.notna()).to_numpy() | ~np.isfinite(
        numeric.fillna(0).to_numpy(dtype=float))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(f"label column '{safe_name(column)}' in '{name}' must hold numbers "
                        f"for a regression task; {row_label(origin, i)} has "
                        f"'{safe_name(str(values.iloc[i]), 40)}'")
    y = numeric.to_numpy(dtype=np.float64)
    if np.abs(y).max(initial=0.0) > FLOAT32_MAX:
        raise DataError(f"label column '{safe_name(column)}' in '{name}' holds values "
                        "beyond the float32 range")
    if len(np.unique(y)) < 2:
        raise DataError(f"label column '{safe_name(column)}' in '{name}' is constant; "
                        "there is nothing to predict")
    return y.astype(np.float32), [column]


@dataclass(frozen=True)
class TaskSuggestion:
    """What :func:`suggest_task` thinks a label column is, and why (never applied)."""

    task: str
    reason: str


def suggest_task(values, max_classes: int = DEFAULT_MAX_CLASSES) -> TaskSuggestion:
    """Suggest classification or regression for a label column, with the reason.

    A suggestion only: the caller shows it and the user decides (``task=``). Numeric
    columns with non-integer values, or with more than ``max_classes`` or more than 20
    distinct integers that also make up more than 5 % of the rows, look continuous.
    """
    series = pd.Series(values).dropna()
    numeric = pd.to_numeric(series, errors="coerce")
    n_distinct = int(series.nunique())
    if len(series) == 0 or numeric.isna().any() or pd.api.types.is_bool_dtype(series):
        return TaskSuggestion("classification", f"{n_distinct} distinct non-numeric values")
    nums = numeric.to_numpy(dtype=float)
    if not np.all(np.mod(nums[np.isfinite(nums)], 1) == 0):
        return TaskSuggestion("regression", f"numbers with fractions ({n_distinct} distinct "
                              "values)")
    if n_distinct > max_classes or (n_distinct > 20 and n_distinct > 0.05 * len(series)):
        return TaskSuggestion("regression", f"{n_distinct} distinct whole numbers in "
                              f"{len(series)} rows: looks like a count or measurement")
    return TaskSuggestion("classification", f"{n_distinct} distinct whole numbers: looks "
                          "like class codes")
