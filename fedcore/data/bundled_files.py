"""Where bundled data files live, and how a loaded pool is protected from edits."""

from __future__ import annotations

from pathlib import Path

from ..dataset import PooledData
from ..errors import DataError

DATA_DIR = Path(__file__).resolve().parents[2] / "data"


def data_file(name: str) -> Path:
    """Path of a file in ``data/``; a :class:`DataError` when it is missing."""
    path = DATA_DIR / name
    if not path.is_file():
        raise DataError(f"bundled data file '{path}' is missing; reinstall FedLens")
    return path


def freeze(pool: PooledData) -> PooledData:
    """Make the pool's arrays read-only, so a cached pool cannot be modified by accident."""
    for arr in (pool.X, pool.y, pool.client_column, pool.time):
        if arr is not None:
            arr.flags.writeable = False
    return pool
