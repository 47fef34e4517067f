"""THE round loop, shared by every strategy (Flower's shape: configure -> fit -> aggregate).

``run_simulation`` trains all of a round's participants in one vectorised engine call, lets the
strategy aggregate, evaluates every client with the model of its cluster, and records per-round
metrics, assignments and diagnostics. At the end it gathers the client representations
(:mod:`fedcore.representations`) that the dashboard re-clusters without retraining.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from .config import SimulationConfig
from .dataset import FederatedDataset
from .representations import ClientTrace, collect_representations
from .results import SimulationResult
from .strategies.base import SimulationContext, Strategy

#: Above this many distinct cluster models, evaluation gathers per-client weights instead of
#: running every model over every client (local-only has one model per client).
_MATRIX_EVAL_MAX_MODELS = 16
_EVAL_CHUNK = 256

ProgressFn = Callable[[int, int, dict], None]


def round_seed(seed: int, server_round: int) -> int:
    """Seed of a round's local data order: a pure function of (run seed, round)."""
    return int(np.random.default_rng([seed, server_round]).integers(2**31 - 1))


def start_weights(models: dict, keys: np.ndarray) -> np.ndarray:
    """(C, P) start weights; a read-only broadcast view when everybody starts from one model,
    which the engine ships to TensorFlow as a single row instead of C copies."""
    first = int(keys[0])
    if (keys == first).all():
        return np.broadcast_to(models[first], (len(keys), len(models[first])))
    return np.stack([models[int(k)] for k in keys])


def evaluate_assigned(engine, models: dict, assignments: np.ndarray,
                      split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """Loss and accuracy of every client under the model of its cluster."""
    keys = np.unique(assignments)
    n = len(assignments)
    if len(keys) <= _MATRIX_EVAL_MAX_MODELS:
        stacked = np.stack([models[int(k)] for k in keys])
        loss_m, acc_m = engine.evaluate_matrix(stacked, split=split)
        row = np.searchsorted(keys, assignments)
        return loss_m[row, np.arange(n)], acc_m[row, np.arange(n)]
    loss, acc = np.empty(n), np.empty(n)
    for start in range(0, n, _EVAL_CHUNK):
        idx = np.arange(start, min(n, start + _EVAL_CHUNK))
        weights = np.stack([models[int(assignments[i])] for i in idx])
        loss[idx], acc[idx] = engine.evaluate_own(weights, idx, split=split)
    return loss, acc


def _finite_mean(values: np.ndarray) -> float:
    """Mean over the finite entries (NaN when there are none); diverged clients are reported
    separately, never averaged in."""
    values = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(values)
    return float(values[ok].mean()) if ok.any() else float("nan")


def run_simulation(dataset: FederatedDataset, strategy: Strategy, config: SimulationConfig,
                   progress: ProgressFn | None = None, engine=None) -> SimulationResult:
    """Simulate ``config.rounds`` rounds of ``strategy`` on ``dataset`` (see :func:`_simulate`).

    NumPy's BLAS runs single-threaded meanwhile: TensorFlow's worker threads keep spinning
    between ops, and a multi-threaded OpenBLAS competing with them was measured 100x slower
    (an eigendecomposition of 160x160: 2.5 ms alone, 270 ms after a training round).
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _simulate(dataset, strategy, config, progress, engine)


def _simulate(dataset: FederatedDataset, strategy: Strategy, config: SimulationConfig,
              progress: ProgressFn | None = None, engine=None) -> SimulationResult:
    """Simulate ``config.rounds`` rounds of ``strategy`` on ``dataset``.

    Parameters
    ----------
    dataset : FederatedDataset
    strategy : Strategy
        A configured strategy instance (hyper-parameters already set).
    config : SimulationConfig
    progress : callable, optional
        Called after every round as ``progress(round, total_rounds, metrics)``.
    engine : VectorisedEngine, optional
        Reuse an engine built for the same dataset and model (saves preprocessing/tracing).

    Returns
    -------
    SimulationResult
    """
    t0 = time.perf_counter()
    if engine is None:
        from .engine import VectorisedEngine  # TensorFlow loads only when really training
        engine = VectorisedEngine(dataset, config.model, seed=config.seed)
    ctx = SimulationContext(dataset=dataset, engine=engine, config=config,
                            rng=np.random.default_rng([config.seed, 7]),
                            initial_weights=engine.initial_weights())
    state = strategy.initialize(ctx)
    trace = ClientTrace(dataset.n_clients, engine.n_params, engine.last_layer_slice(),
                        seed=config.seed)
    rows, history, diagnostics, errors = [], [], [], []
    nonfinite_ever = np.zeros(dataset.n_clients, dtype=bool)

    for r in range(1, config.rounds + 1):
        t_round = time.perf_counter()
        state.diagnostics = {}
        plan = strategy.configure_fit(r, state, ctx)
        start = start_weights(state.models, plan.start_keys)
        out = engine.fit(start, plan.clients, config.fit, round_seed(config.seed, r))
        trace.record(plan.clients, start, out)
        bad = plan.clients[~out.finite]
        nonfinite_ever[bad] = True
        errors.extend(f"round {r}: client {dataset.client_ids[i]!r} diverged (NaN/inf loss); "
                      "excluded from aggregation" for i in bad)
        state = strategy.aggregate_fit(r, state, plan, out, ctx)
        loss, acc = evaluate_assigned(engine, state.models, state.assignments)
        # A model can stay finite while its logits overflow: report that per client too.
        eval_bad = np.flatnonzero(~np.isfinite(loss) & (dataset.test_sizes() > 0))
        errors.extend(f"round {r}: client {dataset.client_ids[i]!r} has a NaN/inf test loss "
                      "(its cluster model diverged)" for i in eval_bad if not nonfinite_ever[i])
        nonfinite_ever[eval_bad] = True
        metrics = {
            "round": r,
            "mean_accuracy": float(np.nanmean(acc)),
            "worst_accuracy": float(np.nanmin(acc)),
            "mean_loss": _finite_mean(loss),
            "train_loss": _finite_mean(out.train_loss),
            "n_clusters": int(len(np.unique(state.assignments))),
            "n_nonfinite": int(len(np.union1d(bad, eval_bad))),
            "seconds": time.perf_counter() - t_round,
        }
        rows.append(metrics)
        history.append(state.assignments.copy())
        diagnostics.append({"round": r, **state.diagnostics})
        if progress is not None:
            progress(r, config.rounds, metrics)

    client_metrics = pd.DataFrame({
        "client": dataset.client_ids,
        "cluster": state.assignments,
        "accuracy": acc,
        "loss": loss,
        "n_train": dataset.train_sizes(),
        "n_test": dataset.test_sizes(),
        "nonfinite": nonfinite_ever,
    })
    if dataset.true_groups is not None:
        client_metrics["true_group"] = np.asarray(dataset.true_groups)
    representations = collect_representations(dataset, engine, trace, state, seed=config.seed)
    return SimulationResult(
        method=strategy.name, params=strategy.get_params(), config=config.to_dict(),
        client_ids=list(dataset.client_ids),
        true_groups=None if dataset.true_groups is None else np.asarray(dataset.true_groups),
        assignments=state.assignments.copy(), assignment_history=np.stack(history),
        rounds=pd.DataFrame(rows), client_metrics=client_metrics, diagnostics=diagnostics,
        representations=representations,
        models={int(k): v for k, v in state.models.items()
                if int(k) in set(state.assignments.tolist())},
        model_spec={"kind": config.model.kind, "hidden": list(config.model.hidden)},
        dataset_fingerprint=dataset.fingerprint(),
        wall_seconds=time.perf_counter() - t0, errors=errors)
