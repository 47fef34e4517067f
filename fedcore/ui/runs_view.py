"""Runs page controller: save session results to disk, list past runs, reload one."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import streamlit as st

from . import state
from .errors import show_error


def spec_for(result, source: dict):
    """The :class:`ExperimentSpec` that reproduces ``result`` from the current data source."""
    from fedcore.config import SimulationConfig
    from fedcore.runner import ExperimentSpec

    if source.get("kind") == "bundled":
        data = dict(data=source["name"], scenario=source["scenario"],
                    n_clients=source["n_clients"], n_groups=source["n_groups"],
                    samples_per_client=source["samples_per_client"],
                    data_seed=source["seed"], scenario_params=dict(source.get("params", {})))
    else:
        # The upload's own client/label columns and split seed make it reproducible from the
        # file (which the bundle ships).
        columns = {k: source[k] for k in ("client_column", "label_column") if source.get(k)}
        if source.get("task", "classification") != "classification":
            columns["task"] = source["task"]  # the user's choice of how the label is read
        data = dict(data=source.get("filename", "upload"), scenario=None,
                    n_clients=len(result.client_ids), data_seed=int(source.get("seed", 0)),
                    scenario_params=columns)
    return ExperimentSpec(method=result.method, method_params=dict(result.params),
                          config=SimulationConfig.from_dict(result.config), **data)


def run_files(result, source: dict, dataset) -> tuple[dict, dict]:
    """``(spec.json, summary.json)`` contents of a session result: an imported run's own
    record, else the spec that reproduces it from the current data source."""
    from fedcore.interop import is_imported, run_record, spec_of
    from fedcore.runner import summary_dict

    if is_imported(result):  # made elsewhere: its own record, not the session's data
        return run_record(spec_of(result), result)
    spec = spec_for(result, source)
    return spec.to_dict(), summary_dict(spec, dataset, result)


def save_results(root: Path, keys: list[str]) -> list[Path]:
    """Write the chosen session results as run directories under ``root``."""
    from fedcore.store import save_run

    ds, source, saved = state.dataset(), state.dataset_source(), []
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for key in keys:
        result = state.results()[key]
        if state.is_stale(result):
            st.warning(f"{key}: not saved — it is stale (computed on another dataset).")
            continue
        try:
            out = root / f"ui-{stamp}-{_slug(key)}"
            saved.append(save_run(out, *run_files(result, source, ds), result))
        except Exception as exc:  # noqa: BLE001
            show_error(exc, f"Could not save {key}")
    return saved


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)[:60]


def default_root() -> str:
    """The runs root (:func:`fedcore.store.default_runs_root`, same as the CLI's)."""
    from fedcore.store import default_runs_root
    return str(default_runs_root())


def confined_folder(text: str) -> Path | None:
    """The folder typed on the Runs page, kept inside the runs root.

    A relative path is taken inside the root; an absolute one must lie inside it. Paths that
    leave the root (``..``, another absolute path, a symlink pointing out) are refused with
    an error, so a visitor cannot list, load or write run directories elsewhere.
    """
    from fedcore.store import default_runs_root

    root = default_runs_root().expanduser().resolve()
    folder = Path(text.strip() or str(root)).expanduser()
    folder = (folder if folder.is_absolute() else root / folder).resolve()
    if folder != root and root not in folder.parents:
        st.error(f"The runs folder must be inside the runs root {root} (set FEDLENS_RUNS "
                 "before starting FedLens to use another root).")
        return None
    return folder


def list_runs(root: Path) -> pd.DataFrame:
    from fedcore.store import list_runs as _list_runs
    return _list_runs(root)


def load_into_session(path: str, run_id: str, with_dataset: bool) -> str | None:
    """Reload a saved run (no recomputation) as a session result; optionally its dataset.

    Returns
    -------
    str or None
        The session key (run id) of the reloaded result; reloading a run already in the
        session replaces it (same method, parameters, data and seed: same numbers).
    """
    from fedcore.runner import ExperimentSpec, load_spec_dataset
    from fedcore.store import load_run

    try:
        spec_dict, summary, result = load_run(path)
        if with_dataset:
            spec = ExperimentSpec.from_dict(spec_dict)
            ds = load_spec_dataset(spec)
            state.set_dataset(ds, {"kind": "bundled", "name": spec.data,
                                   "scenario": spec.scenario, "n_clients": spec.n_clients,
                                   "n_groups": spec.n_groups,
                                   "samples_per_client": spec.samples_per_client,
                                   "seed": spec.data_seed, "params": spec.scenario_params})
    except Exception as exc:  # noqa: BLE001
        show_error(exc, f"Could not load run {run_id}")
        return None
    ui = summary.get("ui") or {}
    return state.store_result(result, oracle=bool(ui.get("oracle_k")))
