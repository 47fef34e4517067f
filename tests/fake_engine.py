"""THE numpy stand-in for :class:`fedcore.engine.VectorisedEngine` (implements the Engine protocol).

Each client ``i`` has a target vector ``targets[i]``; "local training" is ``steps`` gradient
steps on ``0.5 * ||w - targets[i]||^2`` with rate ``step``, i.e. ``w = t + (1-step) (w0-t)``
(with ``step=1``: the local model *is* the target; with ``offsets`` instead, the local model is
``w0 + offsets[i]``, a fixed update). Every aggregation can therefore be derived by hand.

Evaluation honours the split: the loss of model ``m`` on client ``i`` is
``0.5 * ||m - t_i||^2`` on ``"train"`` and ``0.5 * ||m - t_i - test_shift||^2`` on ``"test"``
(accuracy ``exp(-loss)``), so the right cluster model has the lowest loss on both splits but
train and test numbers differ. No TensorFlow involved.

Strategy tests drive it through :func:`fedcore.rounds.run_round` (see :func:`run_rounds`) or
:func:`fedcore.simulation.run_simulation`: there is no second copy of the round loop here.
"""

from __future__ import annotations

import numpy as np

from fedcore.config import SimulationConfig
from fedcore.dataset import FederatedDataset
from fedcore.engine.protocol import FitOutput
from fedcore.rounds import run_round
from fedcore.strategies.base import SimulationContext


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
    initial : ndarray or None
        The initial model (zeros by default); ``initial_weights(seed)`` draws N(0, 1) instead.
    test_shift : float
        Added to every coordinate of the reference point on the test split.
    """

    def __init__(self, targets=None, offsets=None, num_examples=None, step=0.5, noise=0.0,
                 diverged=(), initial=None, test_shift=0.1):
        if (targets is None) == (offsets is None):
            raise ValueError("give exactly one of targets / offsets")
        base = targets if targets is not None else offsets
        self.targets = None if targets is None else np.array(targets, dtype=np.float64)
        self.offsets = None if offsets is None else np.array(offsets, dtype=np.float64)
        self.n_clients, self.n_params = np.asarray(base).shape
        self.sizes = (np.ones(self.n_clients, dtype=np.int64) if num_examples is None
                      else np.asarray(num_examples, dtype=np.int64))
        self.step, self.noise, self.test_shift = step, noise, float(test_shift)
        self.diverged = set(int(d) for d in diverged)
        self._initial = (np.zeros(self.n_params, dtype=np.float32) if initial is None
                         else np.asarray(initial, dtype=np.float32))
        self.calls = []

    def initial_weights(self, seed: int | None = None) -> np.ndarray:
        if seed is None:
            return self._initial.copy()
        return np.random.default_rng(seed).normal(size=self.n_params).astype(np.float32)

    def last_layer_slice(self) -> slice:
        return slice(max(0, self.n_params - 2), self.n_params)

    def fit(self, start_weights, clients, fit=None, round_seed=0) -> FitOutput:
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
        finite = np.array([c not in self.diverged for c in clients], dtype=bool)
        w[~finite] = np.nan
        loss[~finite] = np.nan
        return FitOutput(weights=w.astype(np.float32), num_examples=self.sizes[clients].copy(),
                         train_loss=loss, finite=finite)

    def _reference(self, clients: np.ndarray, split: str) -> np.ndarray:
        if split not in ("train", "test"):
            raise ValueError(f"unknown split {split!r}")
        ref = self.targets if self.targets is not None else self.offsets
        return ref[clients] + (self.test_shift if split == "test" else 0.0)

    def evaluate_matrix(self, models, clients=None, split="test"):
        clients = np.arange(self.n_clients) if clients is None else np.asarray(clients)
        m = np.asarray(models, dtype=np.float64)
        loss = 0.5 * ((m[:, None, :] - self._reference(clients, split)[None]) ** 2).sum(-1)
        return loss, np.exp(-loss)

    def evaluate_own(self, weights, clients, split="test"):
        w = np.asarray(weights, dtype=np.float64)
        loss = 0.5 * ((w - self._reference(np.asarray(clients), split)) ** 2).sum(-1)
        return loss, np.exp(-loss)


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


def two_group_dataset(n_per_group: int = 3, sizes=None, seed: int = 0):
    """A tiny FederatedDataset with 2 true groups and a matching FakeEngine (step 0.5)."""
    rng = np.random.default_rng(seed)
    n = 2 * n_per_group
    groups = np.repeat([0, 1], n_per_group)
    centres = np.array([[4.0, 4.0, 0.0], [-4.0, 0.0, 4.0]])
    targets = (centres[groups] + rng.normal(scale=0.1, size=(n, 3))).astype(np.float32)
    sizes = np.asarray(sizes if sizes is not None else rng.integers(5, 15, size=n))
    xs = [rng.normal(size=(int(s), 4)).astype(np.float32) + 3 * g for s, g in zip(sizes, groups)]
    ys = [rng.integers(0, 2, size=int(s)) for s in sizes]
    ds = FederatedDataset(client_ids=[f"c{i}" for i in range(n)], x_train=xs, y_train=ys,
                          x_test=[x[:3] for x in xs], y_test=[y[:3] for y in ys],
                          feature_names=[f"f{j}" for j in range(4)], label_names=["a", "b"],
                          input_shape=(4,), true_groups=groups)
    return ds, FakeEngine(targets=targets, num_examples=sizes)


def make_context(engine: FakeEngine, dataset: FederatedDataset | None = None, seed: int = 0,
                 rounds: int = 10, fraction_fit: float = 1.0) -> SimulationContext:
    """The context ``run_simulation`` would build (same strategy seeding)."""
    dataset = dataset if dataset is not None else tiny_dataset(engine.n_clients)
    config = SimulationConfig(rounds=rounds, fraction_fit=fraction_fit, seed=seed)
    return SimulationContext.create(dataset, engine, config)


def run_rounds(strategy, ctx: SimulationContext, rounds: int, before_round=None):
    """``initialize`` then :func:`run_round` ``rounds`` times: (final state, per-round history).

    ``before_round(r)`` (optional) runs before round ``r`` (e.g. to change a client's data).
    Asserts the loop's invariant after every round: each client's assignment is a model key.
    """
    state = strategy.initialize(ctx)
    history = []
    for r in range(1, rounds + 1):
        if before_round is not None:
            before_round(r)
        state, record = run_round(strategy, state, ctx, r)
        assert set(np.unique(state.assignments).tolist()) <= set(state.models), r
        history.append({"diagnostics": record.diagnostics, "assignments": record.assignments,
                        "models": {k: v.copy() for k, v in state.models.items()},
                        "record": record})
    return state, history
