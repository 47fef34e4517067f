"""Simulate a whole run: THE round step (:func:`fedcore.rounds.run_round`) repeated.

``run_simulation`` builds the engine and the :class:`SimulationContext`, calls
``strategy.initialize`` and then :func:`~fedcore.rounds.run_round` once per round; the
:class:`RunRecorder` collects every round's metrics, assignments, diagnostics and divergence
messages, and the client trace keeps the local models the dashboard re-clusters without
retraining (:mod:`fedcore.representations`). A lockstep grid executor drives
:func:`~fedcore.rounds.begin_round` / :func:`~fedcore.rounds.finish_round` itself and reuses
:class:`RunRecorder` and :func:`build_result` per cell.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from .config import SimulationConfig
from .data_cache import dataset_fingerprint
from .dataset import FederatedDataset
from .engine.protocol import Engine
from .regression_eval import client_regression_table
from .regression_metrics import task_of
from .representations import ClientTrace, collect_representations
from .results import SimulationResult
from .rounds import RoundRecord, run_round
from .strategies.base import ServerState, SimulationContext, Strategy

ProgressFn = Callable[[int, int, dict], None]


class RunRecorder:
    """Per-round rows, assignment history, diagnostics and error messages of one run."""

    def __init__(self, dataset: FederatedDataset):
        self.client_ids = list(dataset.client_ids)
        self.rows: list[dict] = []
        self.history: list[np.ndarray] = []
        self.diagnostics: list[dict] = []
        self.errors: list[str] = []
        self.nonfinite_ever = np.zeros(dataset.n_clients, dtype=bool)
        self.last: RoundRecord | None = None

    def add(self, record: RoundRecord) -> None:
        r = record.metrics["round"]
        ids = self.client_ids
        self.nonfinite_ever[record.diverged] = True
        self.errors.extend(f"round {r}: client {ids[i]!r} diverged (NaN/inf loss); "
                           "excluded from aggregation" for i in record.diverged)
        self.errors.extend(f"round {r}: client {ids[i]!r} has a NaN/inf test loss "
                           "(its cluster model diverged)"
                           for i in record.eval_nonfinite if not self.nonfinite_ever[i])
        self.nonfinite_ever[record.eval_nonfinite] = True
        self.rows.append(record.metrics)
        self.history.append(record.assignments)
        self.diagnostics.append(record.diagnostics)
        self.last = record


def run_simulation(dataset: FederatedDataset, strategy: Strategy, config: SimulationConfig,
                   progress: ProgressFn | None = None,
                   engine: Engine | None = None) -> SimulationResult:
    """Simulate ``config.rounds`` rounds of ``strategy`` on ``dataset`` (see :func:`_simulate`).

    NumPy's BLAS runs single-threaded meanwhile: TensorFlow's worker threads keep spinning
    between ops, and a multi-threaded OpenBLAS competing with them was measured 100x slower
    (an eigendecomposition of 160x160: 2.5 ms alone, 270 ms after a training round).
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _simulate(dataset, strategy, config, progress, engine)


def _simulate(dataset: FederatedDataset, strategy: Strategy, config: SimulationConfig,
              progress: ProgressFn | None = None,
              engine: Engine | None = None) -> SimulationResult:
    """Simulate ``config.rounds`` rounds of ``strategy`` on ``dataset``.

    Parameters
    ----------
    dataset : FederatedDataset
    strategy : Strategy
        A configured strategy instance (hyper-parameters already set).
    config : SimulationConfig
    progress : callable, optional
        Called after every round as ``progress(round, total_rounds, metrics)``.
    engine : Engine, optional
        Reuse an engine built for the same dataset and model (saves preprocessing/tracing).

    Returns
    -------
    SimulationResult
    """
    t0 = time.perf_counter()
    if engine is None:
        from .engine import VectorisedEngine  # TensorFlow loads only when really training
        engine = VectorisedEngine(dataset, config.model, seed=config.seed,
                                  loss=config.fit.loss_for(dataset.task))
    ctx = SimulationContext.create(dataset, engine, config)
    state = strategy.initialize(ctx)
    trace = ClientTrace(dataset.n_clients, engine.n_params, engine.last_layer_slice(),
                        seed=config.seed)
    recorder = RunRecorder(dataset)
    for r in range(1, config.rounds + 1):
        state, record = run_round(strategy, state, ctx, r)
        trace.record(record.plan.fit.clients, record.plan.start, record.fit_out)
        recorder.add(record)
        if progress is not None:
            progress(r, config.rounds, record.metrics)
    return build_result(strategy, state, ctx, recorder, trace, time.perf_counter() - t0)


def build_result(strategy: Strategy, state: ServerState, ctx: SimulationContext,
                 recorder: RunRecorder, trace: ClientTrace,
                 wall_seconds: float) -> SimulationResult:
    """The :class:`SimulationResult` of a finished run."""
    dataset, config, last = ctx.dataset, ctx.config, recorder.last
    task = task_of(dataset)
    if task == "regression":
        errors = client_regression_table(ctx.engine, dataset, state.models, state.assignments)
        scores = {"loss": last.loss, **{c: errors[c].to_numpy() for c in errors.columns}}
    else:
        scores = {"accuracy": last.score, "loss": last.loss}
    client_metrics = pd.DataFrame({
        "client": dataset.client_ids,
        "cluster": state.assignments,
        **scores,
        "n_train": dataset.train_sizes(),
        "n_test": dataset.test_sizes(),
        "nonfinite": recorder.nonfinite_ever,
    })
    if dataset.true_groups is not None:
        client_metrics["true_group"] = np.asarray(dataset.true_groups)
    representations = collect_representations(dataset, ctx.engine, trace,
                                               strategy.representations(state, ctx),
                                               seed=config.seed)
    return SimulationResult(
        method=strategy.name, params=strategy.get_params(), config=config.to_dict(),
        client_ids=list(dataset.client_ids),
        true_groups=None if dataset.true_groups is None else np.asarray(dataset.true_groups),
        assignments=state.assignments.copy(), assignment_history=np.stack(recorder.history),
        rounds=pd.DataFrame(recorder.rows), client_metrics=client_metrics,
        diagnostics=recorder.diagnostics, representations=representations,
        models={int(k): v for k, v in state.models.items()
                if int(k) in set(state.assignments.tolist())},
        model_spec={"kind": config.model.kind, "hidden": list(config.model.hidden)},
        dataset_fingerprint=dataset_fingerprint(dataset),
        wall_seconds=wall_seconds, errors=recorder.errors, task=task,
        target_scale=getattr(dataset, "target_scale", None))
