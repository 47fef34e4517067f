"""THE round step: one federated round of any strategy, in two public halves.

``run_round(strategy, state, ctx, r) -> (state, RoundRecord)`` is the loop body of
:func:`fedcore.simulation.run_simulation` and of the strategy tests. It is exactly::

    state, plan = begin_round(strategy, state, ctx, r)       # configure_fit, start weights, seed
    fit_out = ctx.engine.fit(plan.start, plan.fit.clients, ctx.config.fit, plan.round_seed)
    state, record = finish_round(strategy, state, ctx, r, plan, fit_out)

The halves exist so that a lockstep executor can interleave many runs (grid cells): call
``begin_round`` for every cell, stack all cells' ``plan.start`` rows into ONE engine call,
split the output back into one :class:`~fedcore.engine.protocol.FitOutput` per cell (rows in
``plan.fit.clients`` order) and call ``finish_round`` per cell. Nothing else happens between
the halves, so each cell's numbers equal a run on its own.

``finish_round`` runs ``aggregate_fit``, then ``configure_evaluate``, the batched evaluation and
``aggregate_evaluate``, and returns the round's metrics, assignments and diagnostics in a
:class:`RoundRecord`. The state passed in is never modified.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from .strategies.base import (
    EvaluateOutput,
    EvaluatePlan,
    FitPlan,
    ServerState,
    SimulationContext,
    Strategy,
    finite_mean,
)

if TYPE_CHECKING:
    from .engine.protocol import Engine, FitOutput

#: Above this many distinct cluster models, evaluation gathers per-client weights instead of
#: running every model over every client (local-only has one model per client).
_MATRIX_EVAL_MAX_MODELS = 16
_EVAL_CHUNK = 256


@dataclass(frozen=True)
class RoundPlan:
    """What :func:`begin_round` decided: the engine call ``finish_round`` expects the output of.

    Attributes
    ----------
    server_round : int
    fit : FitPlan
        The strategy's plan (participants, start keys, configure-time diagnostics).
    start : ndarray (C, P)
        Start weights of the participants, row ``i`` for ``fit.clients[i]`` (possibly a
        read-only broadcast view when everybody starts from one model).
    round_seed : int
        Seed of the local data order, a pure function of (run seed, round).
    started : float
        ``time.perf_counter()`` when the round began (for the ``seconds`` metric).
    """

    server_round: int
    fit: FitPlan
    start: np.ndarray
    round_seed: int
    started: float


@dataclass(frozen=True)
class RoundRecord:
    """Everything one round produced besides the new state.

    Attributes
    ----------
    metrics : dict
        round, mean_accuracy, worst_accuracy, mean_loss, train_loss, n_clusters, n_nonfinite,
        seconds (one row of ``SimulationResult.rounds``).
    assignments : ndarray (N,)
        Cluster of every client after the round (a copy).
    diagnostics : dict
        ``{"round": r, **configure-time diagnostics, **aggregate-time diagnostics}``.
    loss, score : ndarray (N,)
        Per-client evaluation: loss and the task's primary metric (accuracy, or RMSE on a
        regression task); NaN for clients the evaluate plan left out.
    diverged : ndarray of int
        Clients whose local training produced NaN/inf (excluded from aggregation).
    eval_nonfinite : ndarray of int
        Clients with test data whose evaluation loss is NaN/inf.
    plan, fit_out : RoundPlan, FitOutput
        The round's engine input and output, for observers such as the client trace.
    """

    metrics: dict
    assignments: np.ndarray
    diagnostics: dict
    loss: np.ndarray
    score: np.ndarray
    diverged: np.ndarray
    eval_nonfinite: np.ndarray
    plan: RoundPlan
    fit_out: FitOutput


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


def evaluate_assigned(engine: Engine, models: dict, assignments: np.ndarray, split: str = "test",
                      clients: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Loss and accuracy of every client (or of ``clients``) under its model ``assignments[i]``."""
    keys = np.unique(assignments)
    n = len(assignments)
    if len(keys) <= _MATRIX_EVAL_MAX_MODELS:
        stacked = np.stack([models[int(k)] for k in keys])
        loss_m, acc_m = engine.evaluate_matrix(stacked, clients=clients, split=split)
        row = np.searchsorted(keys, assignments)
        return loss_m[row, np.arange(n)], acc_m[row, np.arange(n)]
    ids = np.arange(n) if clients is None else np.asarray(clients)
    loss, acc = np.empty(n), np.empty(n)
    for start in range(0, n, _EVAL_CHUNK):
        idx = np.arange(start, min(n, start + _EVAL_CHUNK))
        weights = np.stack([models[int(assignments[i])] for i in idx])
        loss[idx], acc[idx] = engine.evaluate_own(weights, ids[idx], split=split)
    return loss, acc


def evaluate_plan(engine: Engine, models: dict, plan: EvaluatePlan,
                  n_clients: int) -> EvaluateOutput:
    """Run an :class:`EvaluatePlan` in batched engine calls."""
    clients = np.asarray(plan.clients)
    everybody = len(clients) == n_clients and (clients == np.arange(n_clients)).all()
    loss, acc = evaluate_assigned(engine, models, np.asarray(plan.model_keys), plan.split,
                                  clients=None if everybody else clients)
    return EvaluateOutput(loss=loss, score=acc)


def begin_round(strategy: Strategy, state: ServerState, ctx: SimulationContext,
                server_round: int) -> tuple[ServerState, RoundPlan]:
    """First half of a round: reset diagnostics, ``configure_fit``, start weights, round seed."""
    started = time.perf_counter()
    state = replace(state, diagnostics={})
    fit = strategy.configure_fit(server_round, state, ctx)
    plan = RoundPlan(server_round=server_round, fit=fit,
                     start=start_weights(state.models, fit.start_keys),
                     round_seed=round_seed(ctx.config.seed, server_round), started=started)
    return state, plan


def finish_round(strategy: Strategy, state: ServerState, ctx: SimulationContext,
                 server_round: int, plan: RoundPlan,
                 fit_out: FitOutput) -> tuple[ServerState, RoundRecord]:
    """Second half: aggregate, evaluate, and record the round (see the module docstring)."""
    n = ctx.dataset.n_clients
    diverged = np.asarray(plan.fit.clients)[~np.asarray(fit_out.finite, dtype=bool)]
    state = strategy.aggregate_fit(server_round, state, plan.fit, fit_out, ctx)
    eplan = strategy.configure_evaluate(server_round, state, ctx)
    eval_out = evaluate_plan(ctx.engine, state.models, eplan, n)
    state, summary = strategy.aggregate_evaluate(server_round, state, eplan, eval_out, ctx)
    loss, acc = np.full(n, np.nan), np.full(n, np.nan)
    loss[eplan.clients], acc[eplan.clients] = eval_out.loss, eval_out.score
    # A model can stay finite while its logits overflow: report that per client too.
    evaluated = np.zeros(n, dtype=bool)
    evaluated[eplan.clients] = True
    eval_bad = np.flatnonzero(evaluated & ~np.isfinite(loss) & (ctx.dataset.test_sizes() > 0))
    metrics = {
        "round": server_round,
        **summary,
        "train_loss": finite_mean(fit_out.train_loss),
        "n_clusters": int(len(np.unique(state.assignments))),
        "n_nonfinite": int(len(np.union1d(diverged, eval_bad))),
        "seconds": time.perf_counter() - plan.started,
    }
    record = RoundRecord(metrics=metrics, assignments=state.assignments.copy(),
                         diagnostics={"round": server_round, **plan.fit.diagnostics,
                                      **state.diagnostics},
                         loss=loss, score=acc, diverged=diverged, eval_nonfinite=eval_bad,
                         plan=plan, fit_out=fit_out)
    return state, record


def run_round(strategy: Strategy, state: ServerState, ctx: SimulationContext,
              server_round: int) -> tuple[ServerState, RoundRecord]:
    """One whole round: :func:`begin_round`, one ``engine.fit`` call, :func:`finish_round`."""
    state, plan = begin_round(strategy, state, ctx, server_round)
    fit_out = ctx.engine.fit(plan.start, plan.fit.clients, ctx.config.fit, plan.round_seed)
    return finish_round(strategy, state, ctx, server_round, plan, fit_out)
