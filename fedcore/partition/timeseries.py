"""Per-client time series -> supervised forecasting windows, and the chronological split.

A *series pool* is a :class:`~fedcore.dataset.PooledData` whose rows are the steps of
per-client series: one row per client and date on which the target was observed
(``pool.time``), ``y`` the target's value on that date, ``X`` covariates measured on
that date. :func:`make_windows` turns it into windows; :func:`chronological_cut` picks
the date that separates training from test windows.

Window rules
------------
* The *origin* ``t`` is the last date whose values a forecast may use; the target is
  the value at ``t + horizon`` steps. Features, in this order: the target's last
  ``lags`` values ``y(t), y(t-1), ..., y(t-lags+1)`` (named ``<target>_t``,
  ``<target>_t-1``, ...), the covariates measured at ``t`` (optional; pool columns that
  are calendar features are left out because the target date's calendar replaces them),
  and the calendar of the target date (day of week and of year as sin/cos, or day of
  week and month one-hot). The calendar of a future date is known when forecasting.
* Steps are calendar steps, not rows: a missing date is a gap. A window whose target or
  any lag falls on a gap is dropped, and the counts are reported (never imputed: an
  imputed lag would be a made-up observation).
* Split (:func:`chronological_cut`): ONE cut date for all clients. A window is a training
  window when its target date is on or before the cut, a test window when it is after.
  No training window sees a value after the cut; a test window's lags may lie before the
  cut (they are the past a forecaster would have). One date for all clients keeps a
  federated model from learning on one client's future while being tested on another
  client's past.

References
----------
Hyndman & Athanasopoulos (2021), *Forecasting: Principles and Practice*, 3rd ed.,
OTexts: Sec. 5.2 (the naive/persistence forecast) and Sec. 5.8 (evaluation on a
later test period, never a shuffled one).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError

#: How the calendar of the target date is encoded.
CALENDARS = ("sin-cos", "one-hot", "none")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: Every feature name a calendar encoding produces (pool columns with these names are
#: calendar covariates, never used as exogenous inputs of a window).
CALENDAR_NAMES = frozenset(["dow_sin", "dow_cos", "doy_sin", "doy_cos"]
                           + [f"dow={d}" for d in _DAYS] + [f"month={m}" for m in _MONTHS])
DAY = np.timedelta64(1, "D")


def calendar_features(dates: np.ndarray, encoding: str = "sin-cos"
                      ) -> tuple[np.ndarray, list[str]]:
    """Calendar features of ``dates`` (datetime64): ``(matrix (n, k) float64, names)``.

    ``"sin-cos"``: day of week (period 7) and day of year (period 365.25) on the unit
    circle, so Sunday is next to Monday and 31 December next to 1 January.
    ``"one-hot"``: 7 day-of-week and 12 month indicators. ``"none"``: no columns.
    """
    if encoding not in CALENDARS:
        raise ConfigError(f"calendar must be one of {', '.join(CALENDARS)}, not {encoding!r}")
    idx = pd.DatetimeIndex(np.asarray(dates, dtype="datetime64[D]"))
    if encoding == "none":
        return np.zeros((len(idx), 0)), []
    dow = idx.dayofweek.to_numpy()
    if encoding == "one-hot":
        month = idx.month.to_numpy() - 1
        X = np.column_stack([dow[:, None] == np.arange(7), month[:, None] == np.arange(12)])
        return X.astype(np.float64), [f"dow={d}" for d in _DAYS] + [f"month={m}"
                                                                     for m in _MONTHS]
    doy = idx.dayofyear.to_numpy() - 1
    angles = [2 * np.pi * dow / 7, 2 * np.pi * doy / 365.25]
    X = np.column_stack([f(a) for a in angles for f in (np.sin, np.cos)])
    return X, ["dow_sin", "dow_cos", "doy_sin", "doy_cos"]


@dataclass
class WindowTable:
    """Forecasting windows of all clients, in client then origin order.

    Attributes
    ----------
    X : ndarray (n_windows, n_features) float64
    y : ndarray (n_windows,) float64
        Target value at ``target_time``.
    clients : ndarray of str
    origin, target_time : ndarray of datetime64[D]
    last_value : ndarray (n_windows,) float64
        ``y`` at the origin: what the persistence forecast predicts.
    feature_names : list of str
    counts : dict
        ``candidates`` (windows whose dates fit in each client's span), ``kept``,
        ``dropped_missing`` (a lag or the target on a missing date), per client too.
    """

    X: np.ndarray
    y: np.ndarray
    clients: np.ndarray
    origin: np.ndarray
    target_time: np.ndarray
    last_value: np.ndarray
    feature_names: list[str]
    counts: dict = field(default_factory=dict)


def _check_window_params(lags: int, horizon: int) -> None:
    if int(lags) < 1:
        raise ConfigError(f"lags must be at least 1 (the last observed value), got {lags}")
    if int(horizon) < 1:
        raise ConfigError(f"horizon must be at least 1 step ahead, got {horizon}")


def make_windows(values, times, clients, target: str, lags: int = 7, horizon: int = 1,
                 exog: np.ndarray | None = None, exog_names: list[str] | None = None,
                 calendar: str = "sin-cos") -> WindowTable:
    """Supervised windows of daily per-client series (see the module rules).

    Parameters
    ----------
    values : array of float, shape (n,)
        Target value of each row (finite; a date without a value has no row).
    times : array of datetime64, shape (n,)
        Date of each row; one row per client and date.
    clients : array of str, shape (n,)
    target : str
        Target name (lag features are ``<target>_t``, ``<target>_t-1``, ...).
    lags, horizon : int
    exog, exog_names : covariates of each row (finite), used at the origin date.
    calendar : {"sin-cos", "one-hot", "none"}
    """
    _check_window_params(lags, horizon)
    values = np.asarray(values, dtype=np.float64)
    times = np.asarray(times, dtype="datetime64[D]")
    clients = np.asarray(clients).astype(str)
    if not np.isfinite(values).all():
        raise DataError(f"the series of '{target}' holds missing or infinite values; "
                        "a date without a value must have no row")
    exog = np.zeros((len(values), 0)) if exog is None else np.asarray(exog, dtype=np.float64)
    exog_names = list(exog_names or [])
    use = [i for i, n in enumerate(exog_names) if n not in CALENDAR_NAMES]
    exog, exog_names = exog[:, use], [exog_names[i] for i in use]
    lag_names = [f"{target}_t"] + [f"{target}_t-{k}" for k in range(1, lags)]
    blocks, counts = [], {"candidates": 0, "kept": 0, "dropped_missing": 0, "clients": {}}
    for cid in sorted(set(clients)):
        rows = np.flatnonzero(clients == cid)
        rows = rows[np.argsort(times[rows], kind="stable")]
        steps = ((times[rows] - times[rows[0]]) // DAY).astype(np.int64)
        if len(steps) > 1 and (np.diff(steps) == 0).any():
            raise DataError(f"client '{cid}' has two rows for the date "
                            f"{times[rows][np.flatnonzero(np.diff(steps) == 0)[0]]}")
        grid = np.full(int(steps[-1]) + 1, np.nan)
        grid[steps] = values[rows]
        row_at = np.full(len(grid), -1)
        row_at[steps] = rows
        origins = np.arange(lags - 1, len(grid) - horizon)
        lag_matrix = grid[origins[:, None] - np.arange(lags)[None, :]]
        y = grid[origins + horizon]
        ok = np.isfinite(lag_matrix).all(axis=1) & np.isfinite(y)
        counts["candidates"] += len(origins)
        counts["kept"] += int(ok.sum())
        counts["dropped_missing"] += int((~ok).sum())
        counts["clients"][str(cid)] = {"kept": int(ok.sum()), "dropped_missing": int((~ok).sum())}
        o = origins[ok]
        blocks.append((lag_matrix[ok], exog[row_at[o]], y[ok], np.full(len(o), cid),
                       times[rows[0]] + o * DAY, times[rows[0]] + (o + horizon) * DAY))
    lag_x, ex_x, y, who, origin, when = (np.concatenate([b[i] for b in blocks])
                                         for i in range(6))
    cal_x, cal_names = calendar_features(when, calendar)
    return WindowTable(X=np.column_stack([lag_x, ex_x, cal_x]), y=y, clients=who,
                       origin=origin, target_time=when, last_value=lag_x[:, 0],
                       feature_names=lag_names + exog_names + cal_names, counts=counts)


def chronological_cut(target_times: np.ndarray, test_fraction: float = 0.2,
                      cut: str | None = None) -> np.datetime64:
    """The one cut date: windows with a target after it are test windows.

    With ``cut`` (``"YYYY-MM-DD"``) it is that date; otherwise the latest date such that
    at least ``test_fraction`` of all windows have their target after it.
    """
    when = np.sort(np.asarray(target_times, dtype="datetime64[D]"))
    if cut:
        try:
            return np.datetime64(str(cut).strip(), "D")
        except ValueError:
            raise ConfigError(f"cut date {cut!r} is not a date (YYYY-MM-DD)") from None
    n_test = max(1, int(round(float(test_fraction) * len(when))))
    return when[len(when) - n_test] - DAY


def chronological_positions(target_times: np.ndarray, cut: np.datetime64, client: str
                            ) -> tuple[np.ndarray, np.ndarray]:
    """Train (target on or before ``cut``) and test (after) positions of one client."""
    when = np.asarray(target_times, dtype="datetime64[D]")
    train, test = np.flatnonzero(when <= cut), np.flatnonzero(when > cut)
    if len(train) == 0 or len(test) == 0:
        part, side = ("training", "on or before") if len(train) == 0 else ("test", "after")
        span = f"{when.min()} to {when.max()}" if len(when) else "no windows"
        raise DataError(f"client '{client}' has no {part} window (targets {span}; "
                        f"{part} targets are {side} the cut {cut}); move the cut date or "
                        "change the test fraction")
    return train, test
