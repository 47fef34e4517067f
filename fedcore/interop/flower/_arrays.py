"""Flower parameter lists <-> FedLens flat vectors, and client-id ordering."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np


def flatten(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """A Flower parameter list -> one flat float32 vector (FedLens's layout)."""
    return np.concatenate([np.ravel(a).astype(np.float32) for a in arrays]) if arrays else \
        np.zeros(0, np.float32)


def unflatten(flat: np.ndarray, shapes: Sequence[tuple] | None) -> list[np.ndarray]:
    """One flat vector -> arrays of ``shapes`` (one flat array when ``shapes`` is None)."""
    flat = np.asarray(flat, dtype=np.float32)
    if shapes is None:
        return [flat]
    out, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        out.append(flat[start:start + size].reshape(shape))
        start += size
    if start != flat.size:
        raise ValueError(f"shapes hold {start} values but the model has {flat.size}")
    return out


def natural_order(cid: str):
    """Sort key: ``c2`` before ``c10``; numeric node ids numerically."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", cid)]
