"""A numpy stand-in for the vectorised engine, so strategy logic is checked by hand.

Each client ``i`` has a target point ``t_i``; local training moves the start weights halfway to
it: ``w_local = w_start + 0.5 (t_i - w_start)``. Loss of model ``m`` on client ``i`` is
``||m - t_i||^2`` and accuracy ``exp(-loss)``, so the right cluster model has the lowest loss.
"""

from __future__ import annotations

import numpy as np
from fake_engine import FakeFitOutput

from fedcore.dataset import FederatedDataset


class FakeEngine:
    def __init__(self, targets: np.ndarray, sizes: np.ndarray, diverge: set[int] = frozenset()):
        self.targets = np.asarray(targets, dtype=np.float32)
        self.sizes = np.asarray(sizes, dtype=np.int64)
        self.n_params = self.targets.shape[1]
        self.diverge = set(diverge)
        self.fit_calls = []

    def initial_weights(self, seed=None):
        if seed is None:
            return np.zeros(self.n_params, dtype=np.float32)
        return np.random.default_rng(seed).normal(size=self.n_params).astype(np.float32)

    def last_layer_slice(self):
        return slice(0, self.n_params)

    def fit(self, start, clients, fit, round_seed):
        self.fit_calls.append(np.asarray(clients).copy())
        w = start + 0.5 * (self.targets[clients] - start)
        finite = np.array([c not in self.diverge for c in clients])
        w[~finite] = np.nan
        loss = np.where(finite, ((w - self.targets[clients]) ** 2).sum(1), np.nan)
        return FakeFitOutput(w.astype(np.float32), self.sizes[clients], loss, finite)

    def evaluate_matrix(self, models, clients=None, split="test"):
        clients = np.arange(len(self.targets)) if clients is None else np.asarray(clients)
        d = ((models[:, None, :] - self.targets[None, clients, :]) ** 2).sum(-1)
        return d, np.exp(-d)

    def evaluate_own(self, weights, clients, split="test"):
        d = ((weights - self.targets[clients]) ** 2).sum(-1)
        return d, np.exp(-d)


def two_group_dataset(n_per_group: int = 3, sizes=None, seed: int = 0):
    """A tiny FederatedDataset with 2 true groups and matching FakeEngine targets."""
    rng = np.random.default_rng(seed)
    n = 2 * n_per_group
    groups = np.repeat([0, 1], n_per_group)
    centres = np.array([[4.0, 4.0, 0.0], [-4.0, 0.0, 4.0]])
    targets = centres[groups] + rng.normal(scale=0.1, size=(n, 3))
    sizes = np.asarray(sizes if sizes is not None else rng.integers(5, 15, size=n))
    xs = [rng.normal(size=(int(s), 4)).astype(np.float32) + 3 * g for s, g in zip(sizes, groups)]
    ys = [rng.integers(0, 2, size=int(s)) for s in sizes]
    ds = FederatedDataset(client_ids=[f"c{i}" for i in range(n)], x_train=xs, y_train=ys,
                          x_test=[x[:3] for x in xs], y_test=[y[:3] for y in ys],
                          feature_names=[f"f{j}" for j in range(4)], label_names=["a", "b"],
                          input_shape=(4,), true_groups=groups)
    return ds, FakeEngine(targets, sizes)
