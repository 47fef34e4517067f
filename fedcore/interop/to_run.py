"""An exchange record -> a normal FedLens run (SimulationResult + spec + summary + run dir).

What FedLens computes on its own runs is rebuilt from the record, never invented:

* assignments per round -> ``assignment_history``; the last round's -> ``assignments``;
* per-round accuracy/loss -> ``rounds`` (mean/worst over the clients evaluated that round);
  each client's LAST reported accuracy/loss -> ``client_metrics``;
* ``updates``/``weights`` -> representations holding each client's latest vector (as
  FedLens's own ``ClientTrace`` does); with client data also ``data_summary`` and
  ``principal_angles``, exactly as for a FedLens run;
* no cluster models (the architecture is unknown to FedLens): explanations that need a
  model say so (:data:`NO_MODEL_NOTE`).

An imported result is marked by ``model_spec["kind"] == "imported"``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from ..results import Representation, SimulationResult
from .exchange import FORMAT_VERSION, Exchange

IMPORTED = "imported"
#: The record an imported run was made from, kept in its run directory.
EXCHANGE_FILE = "exchange.npz"
NO_MODEL_NOTE = ("this run was imported: FedLens has no cluster models for it (only client "
                 "representations and metrics), so cluster-model SHAP and prediction "
                 "disagreement are unavailable; data-based explanations work when the "
                 "exchange file includes the clients' data")
_DESCRIPTIONS = {
    "updates": "Each client's latest local update, as recorded by {where}.",
    "weights": "Each client's latest local model weights, as recorded by {where}.",
}


def is_imported(result) -> bool:
    """Whether ``result`` came from :func:`result_from_exchange` (not FedLens's simulator)."""
    return (getattr(result, "model_spec", None) or {}).get("kind") == IMPORTED


@dataclass
class ImportSpec:
    """What an imported run's ``spec.json`` records (duck-types ``ExperimentSpec`` for
    :func:`fedcore.runner.summary_dict`)."""

    data: str
    method: str
    n_clients: int
    method_params: dict = field(default_factory=dict)
    imported: dict = field(default_factory=dict)
    scenario: str | None = None
    data_seed: int = 0
    scenario_params: dict = field(default_factory=dict)

    @property
    def config(self):
        return _NoConfig()

    def to_dict(self) -> dict:
        return {"data": self.data, "method": self.method, "scenario": self.scenario,
                "n_clients": self.n_clients, "data_seed": self.data_seed,
                "scenario_params": dict(self.scenario_params),
                "method_params": dict(self.method_params), "config": {},
                "imported": dict(self.imported)}


class _NoConfig:
    seed = None


def load_client_data(ex: Exchange):
    """The exchange's client data as a FederatedDataset (same reader as uploads), or None."""
    if ex.client_data is None:
        return None
    from ..data import load_upload
    name, content = ex.client_data
    opts = ex.data_options
    ds = load_upload(content, client_column=opts.get("client_column"),
                     label_column=opts.get("label_column"),
                     test_fraction=float(opts.get("test_fraction", 0.2)),
                     seed=int(opts.get("seed", 0)), filename=name)
    ours, theirs = set(ex.client_ids), set(ds.client_ids)
    if ours != theirs:
        missing, extra = sorted(ours - theirs), sorted(theirs - ours)
        detail = "; ".join(p for p in (
            f"not in the data: {', '.join(missing[:5])}" if missing else "",
            f"only in the data: {', '.join(extra[:5])}" if extra else "") if p)
        raise DataError(f"exchange: client ids of '{name}' do not match 'client_ids' "
                        f"({detail})")
    return ds


def _reorder(ex: Exchange, order: list[str]) -> Exchange:
    """The same record with clients in ``order`` (the data's order, so explanations line up)."""
    if order == ex.client_ids:
        return ex
    idx = np.array([ex.client_ids.index(c) for c in order])
    reps = {k: v[..., idx, :] for k, v in ex.representations.items()}
    opt = {k: None if getattr(ex, k) is None else getattr(ex, k)[idx]
           for k in ("true_groups", "num_examples")}
    return Exchange(client_ids=list(order), assignments=ex.assignments[:, idx],
                    accuracy=ex.accuracy[:, idx], loss=ex.loss[:, idx], representations=reps,
                    method=ex.method, params=ex.params, framework=ex.framework,
                    description=ex.description, rounds=ex.rounds, client_data=ex.client_data,
                    data_options=ex.data_options, **opt)


def _last_reported(values: np.ndarray) -> np.ndarray:
    out = np.full(values.shape[1], np.nan)
    for row in values:
        ok = np.isfinite(row)
        out[ok] = row[ok]
    return out


def _nan_stat(fn, values: np.ndarray) -> float:
    ok = values[np.isfinite(values)]
    return float(fn(ok)) if ok.size else float("nan")


def _rounds_table(ex: Exchange) -> pd.DataFrame:
    numbers = ex.rounds if ex.rounds is not None else np.arange(1, ex.n_rounds + 1)
    return pd.DataFrame({
        "round": numbers.astype(np.int64),
        "mean_accuracy": [_nan_stat(np.mean, a) for a in ex.accuracy],
        "worst_accuracy": [_nan_stat(np.min, a) for a in ex.accuracy],
        "mean_loss": [_nan_stat(np.mean, v) for v in ex.loss],
        "train_loss": np.nan,
        "n_clusters": [int(len(np.unique(a))) for a in ex.assignments],
        "n_nonfinite": 0,
        "seconds": np.nan,
        "n_evaluated": np.isfinite(ex.accuracy).sum(axis=1).astype(np.int64),
    })


def _representations(ex: Exchange, dataset, where: str) -> dict[str, Representation]:
    reps = {name: Representation(name, X=ex.latest(name),
                                 description=_DESCRIPTIONS[name].format(where=where))
            for name in ex.representations}
    if dataset is not None:
        from ..representations import data_summary, principal_angles_or_none
        reps["data_summary"] = Representation(
            "data_summary", X=data_summary(dataset),
            description="Label distribution and mean standardised features of each client's "
                        "training data (from the imported client data).")
        angles = principal_angles_or_none(dataset)
        if angles is not None:
            reps["principal_angles"] = Representation(
                "principal_angles", distance=np.asarray(angles, dtype=np.float64),
                description="Principal angles (degrees) between the clients' data subspaces "
                            "(PACFL, Vahidian et al., 2023).")
    return reps


def result_from_exchange(ex: Exchange, source: str = "exchange") -> tuple:
    """Build the run of an exchange record.

    Returns
    -------
    (ImportSpec, SimulationResult, FederatedDataset or None)
    """
    dataset = load_client_data(ex)
    if dataset is not None:
        ex = _reorder(ex, list(dataset.client_ids))
    where = f"{ex.framework or 'an external framework'} ({ex.method})"
    n_train = (ex.num_examples if ex.num_examples is not None else
               dataset.train_sizes() if dataset is not None else np.full(ex.n_clients, np.nan))
    client_metrics = pd.DataFrame({
        "client": ex.client_ids, "cluster": ex.assignments[-1],
        "accuracy": _last_reported(ex.accuracy), "loss": _last_reported(ex.loss),
        "n_train": n_train,
        "n_test": dataset.test_sizes() if dataset is not None else np.nan,
        "nonfinite": False})
    true_groups = ex.true_groups
    if true_groups is None and dataset is not None and dataset.true_groups is not None:
        true_groups = np.asarray(dataset.true_groups)
    if true_groups is not None:
        client_metrics["true_group"] = true_groups
    digest = hashlib.sha256(ex.to_npz_bytes()).hexdigest()[:16]
    provenance = {"format_version": FORMAT_VERSION, "framework": ex.framework,
                  "source": source, "sha256_16": digest, "description": ex.description,
                  "client_data": None if ex.client_data is None else ex.client_data[0]}
    rounds = _rounds_table(ex)
    result = SimulationResult(
        method=ex.method, params=dict(ex.params), config={"imported": provenance},
        client_ids=list(ex.client_ids), true_groups=true_groups,
        assignments=ex.assignments[-1].copy(), assignment_history=ex.assignments.copy(),
        rounds=rounds, client_metrics=client_metrics,
        diagnostics=[{"round": int(r)} for r in rounds["round"]],
        representations=_representations(ex, dataset, where), models={},
        model_spec={"kind": IMPORTED, "framework": ex.framework,
                    "n_params": {k: int(v.shape[-1]) for k, v in ex.representations.items()}},
        dataset_fingerprint="" if dataset is None else dataset.fingerprint(),
        wall_seconds=0.0, errors=[])
    spec = ImportSpec(data=f"imported:{source}" if dataset is None else dataset.name,
                      method=ex.method, n_clients=ex.n_clients, method_params=dict(ex.params),
                      imported=provenance,
                      data_seed=int(ex.data_options.get("seed", 0)),
                      scenario_params={k: v for k, v in ex.data_options.items()
                                       if k in ("client_column", "label_column")})
    return spec, result, dataset


def run_record(spec: ImportSpec, result: SimulationResult, dataset=None) -> tuple[dict, dict]:
    """``(spec_dict, summary)`` of an imported run, as :func:`fedcore.store.save_run` wants."""
    from ..runner import summary_dict

    class _Data:  # summary_dict only asks the dataset for its fingerprint
        def fingerprint(self):
            return result.dataset_fingerprint

    summary = summary_dict(spec, dataset if dataset is not None else _Data(), result)
    summary["imported"] = dict(spec.imported)
    return spec.to_dict(), summary


def spec_of(result: SimulationResult) -> ImportSpec:
    """The :class:`ImportSpec` of an imported result held in memory (e.g. in a session)."""
    prov = dict(result.config.get(IMPORTED, {}))
    return ImportSpec(data=f"imported:{prov.get('source', 'exchange')}", method=result.method,
                      n_clients=result.n_clients, method_params=dict(result.params),
                      imported=prov)


def import_exchange(src, out_dir: str | Path, filename: str | None = None,
                    max_bytes: int | None = None):
    """Read, validate and write an exchange record as a FedLens run directory.

    Returns
    -------
    (Path, SimulationResult, FederatedDataset or None)
        Nothing is written when the record is invalid (:class:`DataError`).
    """
    from .reader import MAX_BYTES, read_exchange

    ex = read_exchange(src, filename=filename, max_bytes=max_bytes or MAX_BYTES)
    source = filename or ("upload" if isinstance(src, dict) else Path(str(src)).name)
    return save_imported(ex, out_dir, str(source))


def save_imported(ex: Exchange, out_dir: str | Path, source: str = "exchange"):
    """Write a validated record as a run directory; ``(Path, result, dataset or None)``."""
    from ..store import save_run

    spec, result, dataset = result_from_exchange(ex, source=source)
    spec_dict, summary = run_record(spec, result, dataset)
    out = save_run(Path(out_dir), spec_dict, summary, result)
    # The record itself (with its client data) travels with the run: reloading the run can
    # restore the data, and a bundle re-creates the numbers by importing it again.
    (out / EXCHANGE_FILE).write_bytes(ex.to_npz_bytes())
    return out, result, dataset


def load_imported_run(run_dir: str | Path):
    """``(result, dataset or None, exchange)`` of an imported run directory."""
    from ..store import load_run
    from .reader import read_exchange

    run_dir = Path(run_dir)
    _spec, _summary, result = load_run(run_dir)
    if not (run_dir / EXCHANGE_FILE).is_file():
        return result, None, None
    ex = read_exchange(run_dir / EXCHANGE_FILE)
    return result, load_client_data(ex), ex
