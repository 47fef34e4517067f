"""Grid statistics for comparison tables: mean ± std over seeds and the paired difference
to FedAvg with a 95% Student-t interval.

The paired difference of a row (scenario, method [K mode]) is taken seed by seed against
FedAvg on the same scenario and seed (same data split, same initial model), then
``mean ± t_{0.975, n-1} · sd / sqrt(n)`` over the n seeds where both finished: pairing
removes the variance the two share through the data split.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..regression_metrics import common_task

BASELINE = "fedavg"
#: summary column -> tidy column of the metrics summarised as mean and std.
SUMMARISED = {"accuracy": "mean_client_accuracy", "worst": "worst_accuracy", "ari": "ari"}
#: The same for a regression grid: RMSE (lower is better), worst = the largest client RMSE.
SUMMARISED_REGRESSION = {"rmse": "mean_client_rmse", "worst": "worst_rmse", "ari": "ari"}
SUMMARY_COLUMNS = ["scenario", "variant", "method", "k", "n_seeds",
                   "accuracy_mean", "accuracy_std", "worst_mean", "worst_std", "ari_mean",
                   "ari_std", "diff_mean", "diff_low", "diff_high", "diff_n"]


def grid_task(tidy: pd.DataFrame) -> str:
    """The task of a grid's cells (tables written before tasks existed: classification)."""
    return common_task(tidy["task"].dropna()) if "task" in tidy else "classification"


def primary_value(tidy: pd.DataFrame) -> str:
    """Tidy column of the metric that ranks methods: mean client accuracy, or RMSE."""
    return "mean_client_rmse" if grid_task(tidy) == "regression" else "mean_client_accuracy"


def summarised(tidy: pd.DataFrame) -> dict:
    """:data:`SUMMARISED` or :data:`SUMMARISED_REGRESSION` for the grid's task."""
    return SUMMARISED_REGRESSION if grid_task(tidy) == "regression" else SUMMARISED


def t_interval(values, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): two-sided Student-t interval of the mean (NaN bounds if n < 2)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return np.nan, np.nan, np.nan
    mean = float(x.mean())
    if x.size < 2:
        return mean, np.nan, np.nan
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return mean, mean - half, mean + half


def paired_differences(tidy: pd.DataFrame, value: str | None = None,
                       baseline: str = BASELINE) -> pd.Series:
    """Per row of ``tidy``: ``value`` (default :func:`primary_value`) minus the baseline's on
    the same scenario and seed (for RMSE a negative difference is an improvement)."""
    value = primary_value(tidy) if value is None else value
    base = tidy[tidy["method"] == baseline]
    ref = base.groupby(["scenario", "seed", "data_seed"])[value].mean()
    keys = pd.MultiIndex.from_frame(tidy[["scenario", "seed", "data_seed"]])
    return pd.Series(tidy[value].to_numpy(dtype=float) - ref.reindex(keys).to_numpy(float),
                     index=tidy.index, name=f"{value}_vs_{baseline}")


def summary_frame(tidy: pd.DataFrame) -> pd.DataFrame:
    """One row per (scenario, variant): mean/std of each metric, paired difference to FedAvg
    (NaN when the grid has no FedAvg) with its 95% t-interval and number of pairs."""
    from .aggregate import with_variants

    tidy = with_variants(tidy)
    metrics = summarised(tidy)
    columns = ["scenario", "variant", "method", "k", "n_seeds",
               *(f"{name}_{stat}" for name in metrics for stat in ("mean", "std")),
               "diff_mean", "diff_low", "diff_high", "diff_n"]
    rows = []
    for (scenario, variant), part in tidy.groupby(["scenario", "variant"], sort=False):
        row = {"scenario": scenario, "variant": variant, "method": part["method"].iloc[0],
               "k": part["k"].iloc[0], "n_seeds": int(part["seed"].nunique())}
        for name, col in metrics.items():
            vals = pd.to_numeric(part[col], errors="coerce").astype(float)
            row[f"{name}_mean"] = vals.mean()
            row[f"{name}_std"] = vals.std(ddof=1)
        diffs = part["fedavg_diff"].to_numpy(dtype=float)
        row["diff_mean"], row["diff_low"], row["diff_high"] = t_interval(diffs)
        row["diff_n"] = int(np.isfinite(diffs).sum())
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def _pm(mean, std, decimals: int = 3) -> str:
    if not np.isfinite(mean):
        return "--"
    return f"{mean:.{decimals}f}" + ("" if not np.isfinite(std) else f" ± {std:.{decimals}f}")


def diff_parts(row, decimals: int = 3) -> tuple[str, str, str] | None:
    """Signed strings (mean, low, high) of a summary row's paired difference; None without
    pairs, empty bounds with a single pair."""
    if not np.isfinite(row["diff_mean"]):
        return None
    bounds = (row["diff_low"], row["diff_high"])
    low, high = (f"{b:+.{decimals}f}" if np.isfinite(b) else "" for b in bounds)
    return f"{row['diff_mean']:+.{decimals}f}", low, high


def diff_text(row, decimals: int = 3) -> str:
    """``"+0.012 [-0.003, +0.027]"`` (``"--"`` without pairs)."""
    parts = diff_parts(row, decimals)
    if parts is None:
        return "--"
    return parts[0] + (f" [{parts[1]}, {parts[2]}]" if parts[1] else "")


def display_frame(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary with human-readable headers and ``mean ± std`` strings."""
    rmse = "rmse_mean" in summary
    main, short = ("rmse", "RMSE") if rmse else ("accuracy", "acc.")
    return pd.DataFrame({
        "Scenario": summary["scenario"], "Method": summary["variant"],
        "Seeds": summary["n_seeds"],
        f"Final-round mean client {short}": [_pm(m, s) for m, s in
                                             zip(summary[f"{main}_mean"],
                                                 summary[f"{main}_std"])],
        f"Worst-client {short}": [_pm(m, s) for m, s in
                                  zip(summary["worst_mean"], summary["worst_std"])],
        "ARI": [_pm(m, s) for m, s in zip(summary["ari_mean"], summary["ari_std"])],
        f"Δ {short} vs FedAvg [95% t-CI]": [diff_text(r) for _, r in summary.iterrows()],
    })


CAPTION = ("Final-round accuracy (the model each client holds after the last round, on its "
           "own test split), mean ± sample std over seeds; Δ = paired difference to FedAvg "
           "on the same scenario and seed, mean and 95% Student-t interval over seeds. "
           "\"K given (oracle)\": the method was told the true number of groups.")


CAPTION_REGRESSION = ("Final-round RMSE, lower is better (the model each client holds after "
                      "the last round, on its own test split; worst = the largest client "
                      "RMSE), mean ± sample std over seeds; Δ = paired difference to FedAvg "
                      "on the same scenario and seed (negative = lower RMSE than FedAvg), "
                      "mean and 95% Student-t interval over seeds. \"K given (oracle)\": "
                      "the method was told the true number of groups.")


def text_report(summary: pd.DataFrame, notes: list[str] = ()) -> str:
    """The tables as plain text (CLI), one block per scenario, caption and notes below."""
    if summary.empty:
        return "no finished cells\n"
    frame = display_frame(summary)
    caption = CAPTION_REGRESSION if "rmse_mean" in summary else CAPTION
    blocks = []
    for scenario, part in frame.groupby("Scenario", sort=False):
        blocks.append(f"== {scenario} ==\n"
                      + part.drop(columns="Scenario").to_string(index=False))
    return "\n\n".join(blocks) + "\n\n" + "\n".join([caption, *notes]) + "\n"
