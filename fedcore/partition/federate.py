"""From per-client index sets to a :class:`~fedcore.dataset.FederatedDataset`.

Steps, in this order, all seeded:

1. per-client stratified train/test split (each client keeps at least one sample in
   each part; classes are allocated to the test part in proportion, remainders to the
   classes with the largest fractional share);
2. tabular features are standardised with the mean and standard deviation of the pooled
   *training* rows of all clients (recorded in ``provenance["standardisation"]``); image
   pixels in [0, 1] are left as they are;
3. the scenario's per-group transforms (feature skew, rotation, label swap) are applied.
"""

from __future__ import annotations

import numpy as np

from ..dataset import FederatedDataset, too_few_samples
from ..errors import ConfigError


def check_test_fraction(test_fraction: float) -> float:
    test_fraction = float(test_fraction)
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError(f"test_fraction must be between 0 and 1 (exclusive), "
                          f"got {test_fraction}")
    return test_fraction


def stratified_split(y: np.ndarray, test_fraction: float,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Positions (sorted) of the train and test part of one client's samples."""
    n = len(y)
    n_test = min(n - 1, max(1, int(round(test_fraction * n))))
    perm = rng.permutation(n)
    classes, inverse = np.unique(y[perm], return_inverse=True)
    counts = np.bincount(inverse, minlength=len(classes))
    exact = counts * n_test / n
    take = np.floor(exact).astype(np.int64)
    leftover = n_test - int(take.sum())
    if leftover > 0:
        order = np.lexsort((np.arange(len(classes)), -(exact - take)))
        room = order[take[order] < counts[order]]
        take[room[:leftover]] += 1
    test_mask = np.zeros(n, dtype=bool)
    for c in range(len(classes)):
        members = perm[inverse == c]
        test_mask[members[: take[c]]] = True
    return np.flatnonzero(~test_mask), np.flatnonzero(test_mask)


def federate(pool, client_indices: dict[str, np.ndarray], true_groups: np.ndarray | None, *,
             seed: int, test_fraction: float, name: str, provenance: dict,
             transforms: list | None = None, standardise: bool | None = None,
             metadata=None) -> FederatedDataset:
    """Split, standardise and transform per-client samples of ``pool``.

    Parameters
    ----------
    pool : PooledData
    client_indices : dict
        Client id -> row indices into ``pool`` (disjoint).
    true_groups : ndarray or None
        Group of each client (order of ``client_indices``); selects the transform.
    transforms : list of callables, optional
        One :data:`~fedcore.partition.base.GroupTransform` per group.
    standardise : bool, optional
        Default: standardise unless ``pool.is_image``.
    """
    test_fraction = check_test_fraction(test_fraction)
    split_rng = np.random.default_rng([int(seed), 1])
    transform_rng = np.random.default_rng([int(seed), 3])
    ids = list(client_indices)
    parts = {"x_train": [], "y_train": [], "x_test": [], "y_test": []}
    for cid in ids:
        idx = np.asarray(client_indices[cid], dtype=np.int64)
        if len(idx) < 2:
            raise too_few_samples(cid, len(idx))
        tr, te = stratified_split(pool.y[idx], test_fraction, split_rng)
        for split, pos in (("train", tr), ("test", te)):
            parts[f"x_{split}"].append(np.asarray(pool.X[idx[pos]], dtype=np.float32))
            parts[f"y_{split}"].append(np.asarray(pool.y[idx[pos]], dtype=np.int64))
    provenance = dict(provenance)
    if standardise is None:
        standardise = not pool.is_image
    if standardise:
        stacked = np.concatenate(parts["x_train"]).astype(np.float64)
        mean, std = stacked.mean(axis=0), stacked.std(axis=0)
        std = np.where(std > 1e-12, std, 1.0)
        for key in ("x_train", "x_test"):
            parts[key] = [((x - mean) / std).astype(np.float32) for x in parts[key]]
        provenance["standardisation"] = {"mean": [round(float(v), 6) for v in mean],
                                         "std": [round(float(v), 6) for v in std]}
    else:
        provenance["standardisation"] = None
    if transforms is not None and true_groups is not None:
        for i, g in enumerate(np.asarray(true_groups)):
            fn = transforms[int(g)]
            for split in ("train", "test"):
                x, y = fn(parts[f"x_{split}"][i], parts[f"y_{split}"][i], transform_rng)
                parts[f"x_{split}"][i], parts[f"y_{split}"][i] = x, y
    return FederatedDataset(
        client_ids=[str(c) for c in ids], **parts,
        feature_names=list(pool.feature_names), label_names=list(pool.label_names),
        input_shape=tuple(pool.input_shape),
        true_groups=None if true_groups is None else np.asarray(true_groups, dtype=np.int64),
        metadata=metadata, name=name, provenance=provenance)
