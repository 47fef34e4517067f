"""A numpy stand-in for :class:`fedcore.engine.VectorisedEngine`, for strategy tests.

Each client ``i`` has a target vector ``targets[i]``; "local training" is ``steps`` gradient
steps on ``0.5 * ||w - targets[i]||^2`` with rate ``step``, i.e. ``w = t + (1-step)^steps (w0-t)``
(with ``step=1``: the local model *is* the target; with ``offsets`` instead, the local model is
``w0 + offsets[i]``, a fixed update). Every aggregation can therefore be derived by hand.
No TensorFlow involved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fedcore.config import SimulationConfig
from fedcore.dataset import FederatedDataset
from fedcore.strategies.base import SimulationContext


@dataclass
class FakeFitOutput:
    weights: np.ndarray
    num_examples: np.ndarray
    train_loss: np.ndarray
    finite: np.ndarray


class FakeEngine:
    """``fit`` moves each client towards its target (or by its fixed offset).

    Parameters
    ----------
    targets : ndarray (n_clients, n_params) or None
    offsets : ndarray (n_clients, n_params) or None
        Exactly one of ``targets`` / ``offsets``.
    num_examples : ndarray (n_clients,) or None
        Reported sample counts (default 1 each).
    step : float
        Gradient step of the least-squares mode.
    noise : float
        Std of seeded Gaussian noise added to local models (seeded by ``round_seed``).
    diverged : iterable of int
        Clients whose fit reports ``finite=False`` (weights NaN).
    """

    def __init__(self, targets=None, offsets=None, num_examples=None, step=0.5, noise=0.0,
                 diverged=(), initial=None):
        if (targets is None) == (offsets is None):
            raise ValueError("give exactly one of targets / offsets")
        base = targets if targets is not None else offsets
        self.targets = None if targets is None else np.array(targets, dtype=np.float64)
        self.offsets = None if offsets is None else np.array(offsets, dtype=np.float64)
        self.n_clients, self.n_params = np.asarray(base).shape
        self.sizes = (np.ones(self.n_clients, dtype=np.int64) if num_examples is None
                      else np.asarray(num_examples, dtype=np.int64))
        self.step, self.noise = step, noise
        self.diverged = set(int(d) for d in diverged)
        self._initial = (np.zeros(self.n_params, dtype=np.float32) if initial is None
                         else np.asarray(initial, dtype=np.float32))
        self.calls = []

    def initial_weights(self) -> np.ndarray:
        return self._initial.copy()

    def fit(self, start_weights, clients, fit=None, round_seed=0) -> FakeFitOutput:
        start = np.asarray(start_weights, dtype=np.float64)
        clients = np.asarray(clients, dtype=np.int64)
        self.calls.append((start.copy(), clients.copy()))
        if self.targets is not None:
            t = self.targets[clients]
            w = t + (1.0 - self.step) * (start - t)
            loss = 0.5 * ((start - t) ** 2).sum(1)
        else:
            w = start + self.offsets[clients]
            loss = np.zeros(len(clients))
        if self.noise:
            w = w + np.random.default_rng(round_seed).normal(0, self.noise, w.shape)
        finite = np.array([c not in self.diverged for c in clients])
        w[~finite] = np.nan
        return FakeFitOutput(weights=w.astype(np.float32), num_examples=self.sizes[clients].copy(),
                             train_loss=loss, finite=finite)

    def evaluate_matrix(self, models, clients=None, split="test"):
        clients = np.arange(self.n_clients) if clients is None else np.asarray(clients)
        ref = self.targets if self.targets is not None else self.offsets
        m = np.asarray(models, dtype=np.float64)
        loss = 0.5 * ((m[:, None, :] - ref[None, clients, :]) ** 2).sum(-1)
        return loss, np.exp(-loss)

    def last_layer_slice(self) -> slice:
        return slice(max(0, self.n_params - 2), self.n_params)


def tiny_dataset(n_clients: int, x_train=None, y_train=None, true_groups=None,
                 n_features: int = 2) -> FederatedDataset:
    """A FederatedDataset with given (or dummy) per-client training arrays."""
    if x_train is None:
        x_train = [np.zeros((3, n_features), dtype=np.float32) for _ in range(n_clients)]
        y_train = [np.zeros(3, dtype=np.int64) for _ in range(n_clients)]
    n_features = x_train[0].shape[1]
    n_classes = int(max(int(y.max(initial=0)) for y in y_train)) + 1
    return FederatedDataset(
        client_ids=[f"c{i}" for i in range(n_clients)], x_train=list(x_train),
        y_train=list(y_train), x_test=list(x_train), y_test=list(y_train),
        feature_names=[f"f{j}" for j in range(n_features)],
        label_names=[str(c) for c in range(n_classes)], input_shape=(n_features,),
        true_groups=None if true_groups is None else np.asarray(true_groups))


def make_context(engine: FakeEngine, dataset: FederatedDataset | None = None, seed: int = 0,
                 rounds: int = 10, fraction_fit: float = 1.0) -> SimulationContext:
    dataset = dataset if dataset is not None else tiny_dataset(engine.n_clients)
    config = SimulationConfig(rounds=rounds, fraction_fit=fraction_fit, seed=seed)
    return SimulationContext(dataset=dataset, engine=engine, config=config,
                             rng=np.random.default_rng(seed),
                             initial_weights=engine.initial_weights())


def run_rounds(strategy, ctx: SimulationContext, rounds: int):
    """The simulation loop without evaluation: returns (final state, per-round diagnostics).

    Asserts the loop's invariant after every round: each client's assignment is a model key.
    """
    state = strategy.initialize(ctx)
    history = []
    for r in range(1, rounds + 1):
        plan = strategy.configure_fit(r, state, ctx)
        start = np.stack([state.models[int(k)] for k in plan.start_keys])
        out = ctx.engine.fit(start, plan.clients, ctx.config.fit, 1000 + r)
        state = strategy.aggregate_fit(r, state, plan, out, ctx)
        assert set(np.unique(state.assignments).tolist()) <= set(state.models), r
        history.append({"diagnostics": dict(state.diagnostics),
                        "assignments": state.assignments.copy(),
                        "models": {k: v.copy() for k, v in state.models.items()}})
    return state, history
