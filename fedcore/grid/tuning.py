"""Hyper-parameter selection for fair grids: small search spaces, scored on validation data.

``TUNING_SPACES`` is the registry of what is tuned, per method. With ``--tune-seeds`` every
candidate (the product of a space's values) of every tuned (scenario, method, K mode) runs
on each tuning seed on :func:`fedcore.partition.holdout.validation_view` of the scenario's
data: trained on 80% of each client's TRAIN split and scored on the other 20% (the
final-round mean client accuracy). The test split and the true groups are never seen: the
view has neither. The candidate with the best mean validation score over the tuning seeds
wins; ties go to the method's default value (listed first). The reported seeds then run
with the winners, which are stored in ``grid.json`` and printed under the tables.

Methods without an entry (fedavg, local, oracle, kmeans, fesem, fedgroup) have nothing
tuned; a value the user pins with ``--param`` is not tuned either.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..regression_metrics import metric_named
from ..store import is_complete, read_json


@dataclass(frozen=True)
class TuningSpace:
    """Values to try per parameter, and in which K modes the parameters matter.

    ``k_modes`` holds the K modes (:mod:`fedcore.kmode`) under which the space is tuned;
    ``None`` stands for "no K mode" (a method that discovers K, or one run as set).
    """

    values: dict
    k_modes: tuple = (None,)
    why: str = ""


ALL_MODES = (None, "given", "estimated")

#: What is tuned per method (the paper's / method's default is listed first, so it wins
#: ties).
TUNING_SPACES: dict[str, TuningSpace] = {
    "cfl": TuningSpace({"eps2": (1.6, 0.8, 0.4, 0.2, 0.1)},
                       why="split trigger of the absolute criterion: the largest client "
                           "update norm must exceed eps2; halvings of the paper's 1.6 "
                           "(update norms scale with model, lr and data, so the paper's value "
                           "may never trigger); eps1 stays at the paper's 0.4"),
    "pacfl": TuningSpace({"threshold": (15.0, 10.0, 25.0)},
                         why="dendrogram cut angle (degrees) that decides K"),
    "ifca": TuningSpace({"n_init": (1, 3)}, k_modes=ALL_MODES,
                        why="random restarts against IFCA's known bad local minima"),
    "flhc": TuningSpace({"distance_threshold": (0.3, 0.5, 0.7)},
                        why="dendrogram cut; only used when FL+HC cuts by threshold "
                            "(no K mode, n_clusters=0)"),
}


def _default_first(values: tuple, default) -> list:
    return sorted(values, key=lambda v: v != default)


def candidates(method: str, k_mode: str | None, pinned: dict) -> list[dict]:
    """The parameter dicts to try for ``method`` under ``k_mode`` (empty: not tuned).

    ``pinned`` are the user's ``--param`` values for the method: a pinned parameter is
    not tuned, and a method whose threshold cut is switched off by a pinned
    ``n_clusters > 0`` is not tuned on it either.
    """
    from ..strategies import STRATEGIES

    space = TUNING_SPACES.get(method)
    if space is None or k_mode not in space.k_modes or method not in STRATEGIES:
        return []
    schema = STRATEGIES[method].param_schema
    if k_mode is None and int(pinned.get("n_clusters", 0) or 0) > 0 and method == "flhc":
        return []
    names = [n for n in space.values if n not in pinned and n in schema]
    if not names:
        return []
    axes = [_default_first(space.values[n], schema[n].default) for n in names]
    return [dict(zip(names, combo)) for combo in itertools.product(*axes)]


def _key(params: dict) -> str:
    return json.dumps(params, sort_keys=True, default=str)


def choose(grid, grid_dir: str | Path) -> list[dict]:
    """Pick each tuned variant's candidate from its finished tuning cells.

    Returns
    -------
    list of dict
        One record per tuned (scenario, method, k_mode): ``params`` (the winner, empty
        when no candidate finished on every tuning seed), ``metric`` (``accuracy``, or
        ``rmse`` on a regression task, where the lowest wins), ``score`` (its mean
        validation value, kept under ``validation_accuracy`` in ``candidates``),
        ``candidates`` (every candidate's params, mean score and seeds done),
        ``status`` ("chosen" or "failed: defaults used").
    """
    grid_dir = Path(grid_dir)
    scores: dict = {}
    metrics: dict = {}
    for cell in grid.tuning_cells():
        variant = (cell.scenario, cell.method, cell.k_mode)
        cand = {k: v for k, v in cell.spec["method_params"].items()
                if k not in grid.method_params.get(cell.method, {})}
        entry = scores.setdefault(variant, {}).setdefault(_key(cand), {"params": cand,
                                                                       "values": []})
        path = grid_dir / "cells" / cell.cell_id
        if is_complete(path):
            summary = read_json(path / "summary.json")
            metric = summary.get("primary_metric", "accuracy")  # older runs: accuracy
            value = summary.get(f"mean_client_{metric}")
            entry["values"].append(np.nan if value is None else float(value))
            metrics[variant] = metric
    out = []
    for (scenario, method, k_mode), cands in scores.items():
        rows = [{"params": c["params"], "n_seeds": len(c["values"]),
                 "validation_accuracy": float(np.mean(c["values"])) if c["values"] else None}
                for c in cands.values()]
        full = [r for r in rows if r["n_seeds"] == len(grid.tune_seeds)
                and r["validation_accuracy"] is not None
                and np.isfinite(r["validation_accuracy"])]
        metric = metrics.get((scenario, method, k_mode), "accuracy")
        sign = 1.0 if metric_named(metric).higher_is_better else -1.0  # RMSE: lowest wins
        best = max(full, key=lambda r: sign * r["validation_accuracy"],
                   default=None)  # first wins
        out.append({"scenario": scenario, "method": method, "k_mode": k_mode,
                    "metric": metric,
                    "params": dict(best["params"]) if best else {},
                    "score": best["validation_accuracy"] if best else None,
                    "status": "chosen" if best else "failed: defaults used",
                    "candidates": rows})
    return out


def tuned_params(records: list[dict]) -> dict:
    """``choose`` records -> ``{(scenario, method, k_mode): params}`` for ``GridSpec.cells``."""
    return {(r["scenario"], r["method"], r["k_mode"]): dict(r["params"]) for r in records}


def tuning_lines(records: list[dict], tune_seeds: list, fraction: float = 0.2) -> list[str]:
    """Human-readable lines for under the tables."""
    if not records:
        return []
    seeds = ", ".join(map(str, tune_seeds))
    lines = [f"Hyper-parameters chosen on tuning seeds {seeds} (scored on {fraction:.0%} of "
             "each client's train split; test data and true groups unused):"]
    for r in records:
        mode = f" [K {r['k_mode']}]" if r["k_mode"] else ""
        chosen = ", ".join(f"{k}={v}" for k, v in r["params"].items()) or "defaults"
        metric = metric_named(r.get("metric", "accuracy")).label
        score = "" if r["score"] is None else f" (validation {metric} {r['score']:.3f})"
        lines.append(f"  {r['scenario'] or 'none'} / {r['method']}{mode}: {chosen}{score}"
                     + ("" if r["status"] == "chosen" else f" -- {r['status']}"))
    return lines
