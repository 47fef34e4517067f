"""Shared fixtures of the strategy tests: two-group least-squares targets, clients living in
different subspaces, and partition equality up to label names."""

from __future__ import annotations

import numpy as np


def same_partition(a, b) -> bool:
    """Equal up to renaming of the cluster ids."""
    a, b = np.asarray(a), np.asarray(b)
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def two_group_targets(n_per_group=4, dim=6, noise=0.05, seed=0):
    """Targets around +a and -a (opposite concepts), plus seeded per-client noise."""
    rng = np.random.default_rng(seed)
    a = np.zeros(dim)
    a[0], a[1] = 3.0, 1.0
    centres = np.vstack([np.tile(a, (n_per_group, 1)), np.tile(-a, (n_per_group, 1))])
    groups = np.repeat([0, 1], n_per_group)
    return centres + rng.normal(0, noise, centres.shape), groups


# ---------------------------------------------------------------------------------- CFL


def subspace_clients(seed=0, n_per_group=3, d=10, noise=1e-3):
    """Clients of group 0 draw data in span(e0..e2), group 1 in span(e5..e7)."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for g in range(2):
        for _ in range(n_per_group):
            x = np.zeros((30, d))
            x[:, 5 * g:5 * g + 3] = rng.normal(size=(30, 3))
            xs.append((x + rng.normal(0, noise, x.shape)).astype(np.float32))
            ys.append(rng.integers(0, 2, 30))
    return xs, ys, np.repeat([0, 1], n_per_group)
