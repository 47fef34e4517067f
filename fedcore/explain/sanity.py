"""Synthetic federations whose grouping has a KNOWN cause, to sanity-check explanations.

An explanation method that cannot recover a planted cause should not be trusted on real data
(Adebayo et al. 2018, "Sanity checks for saliency maps", NeurIPS). Each generator returns a
:class:`FederatedDataset` whose ``true_groups`` differ only by the planted cause:

* :func:`shifted_feature_federation` - one feature shifted by ``shift`` standard deviations;
* :func:`label_skew_federation` - only the label mix differs;
* :func:`rotated_bars_federation` - small images of a bar, rotated in the second group.

Used by the tests and the benchmark (100 clients).
"""

from __future__ import annotations

import numpy as np

from ..dataset import FederatedDataset


def _federation(xs, ys, n_test, groups, feature_names, label_names, input_shape, name):
    return FederatedDataset(
        client_ids=[f"client_{i:03d}" for i in range(len(xs))],
        x_train=[x[n_test:].astype(np.float32) for x in xs],
        y_train=[y[n_test:].astype(np.int64) for y in ys],
        x_test=[x[:n_test].astype(np.float32) for x in xs],
        y_test=[y[:n_test].astype(np.int64) for y in ys],
        feature_names=feature_names, label_names=label_names, input_shape=input_shape,
        true_groups=np.asarray(groups, dtype=np.int64), name=name,
        provenance={"source": "fedcore.explain.sanity", "scenario": name})


def shifted_feature_federation(n_clients: int = 20, n_features: int = 6, n_samples: int = 60,
                               feature: int = 3, shift: float = 2.0, n_test: int = 20,
                               seed: int = 0) -> FederatedDataset:
    """Two groups of clients (alternating) that differ only by ``feature_<feature> + shift``.

    Features are standard normal; labels are balanced coin flips independent of the group.
    """
    rng = np.random.default_rng(seed)
    groups = np.arange(n_clients) % 2
    xs, ys = [], []
    for g in groups:
        X = rng.normal(size=(n_samples + n_test, n_features))
        X[:, feature] += shift * g
        xs.append(X)
        ys.append(rng.integers(0, 2, size=n_samples + n_test))
    return _federation(xs, ys, n_test, groups, [f"feature_{j}" for j in range(n_features)],
                       ["negative", "positive"], (n_features,), "sanity / shifted feature")


def label_skew_federation(n_clients: int = 20, n_features: int = 6, n_samples: int = 60,
                          majority: float = 0.8, n_test: int = 20,
                          seed: int = 0) -> FederatedDataset:
    """Two groups that differ only by label mix: ``majority`` of label 0 vs of label 1.

    Features are standard normal and independent of labels and groups.
    """
    rng = np.random.default_rng(seed)
    groups = np.arange(n_clients) % 2
    xs, ys = [], []
    for g in groups:
        p = [majority, 1 - majority] if g == 0 else [1 - majority, majority]
        xs.append(rng.normal(size=(n_samples + n_test, n_features)))
        ys.append(rng.choice(2, size=n_samples + n_test, p=p))
    return _federation(xs, ys, n_test, groups, [f"feature_{j}" for j in range(n_features)],
                       ["negative", "positive"], (n_features,), "sanity / label skew")


def rotated_bars_federation(n_clients: int = 12, n_samples: int = 30, side: int = 28,
                            angle: float = 60.0, n_test: int = 10,
                            seed: int = 0) -> FederatedDataset:
    """Images of a bar (two classes: short/long); group 1's bars are rotated by ``angle``.

    Every image is a Gaussian-blurred line through the centre with a small random tilt
    (+-10 degrees), so only the orientation separates the groups.
    """
    rng = np.random.default_rng(seed)
    groups = np.arange(n_clients) % 2
    rr, cc = np.mgrid[0:side, 0:side].astype(np.float64) - (side - 1) / 2
    xs, ys = [], []
    for g in groups:
        n = n_samples + n_test
        y = rng.integers(0, 2, size=n)
        theta = np.radians(rng.uniform(-10, 10, size=n) + angle * g)
        half = np.where(y == 1, side * 0.4, side * 0.2)
        # Distance of each pixel to the bar's axis (direction (cos, sin) in (row, col)).
        along = rr[None] * np.cos(theta)[:, None, None] + cc[None] * np.sin(theta)[:, None, None]
        across = -rr[None] * np.sin(theta)[:, None, None] + cc[None] * np.cos(theta)[:, None, None]
        img = np.exp(-across**2 / 2.0) * (np.abs(along) <= half[:, None, None])
        xs.append(img.reshape(n, side * side))
        ys.append(y)
    names = [f"pixel_{r}_{c}" for r in range(side) for c in range(side)]
    return _federation(xs, ys, n_test, groups, names, ["short", "long"], (side, side, 1),
                       "sanity / rotated bars")


def linear_logits(weights: np.ndarray, bias: np.ndarray | None = None):
    """A ``predict_logits(X) -> X @ weights + bias`` callable (weights: (d, C))."""
    W = np.asarray(weights, dtype=np.float64)
    b = np.zeros(W.shape[1]) if bias is None else np.asarray(bias, dtype=np.float64)

    def predict_logits(X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.float64) @ W + b

    return predict_logits
