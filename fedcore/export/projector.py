"""Client vectors for the TensorBoard Embedding Projector (projector.tensorflow.org).

Format: ``vectors.tsv`` has one row per point, D tab-separated numbers, no header;
``metadata.tsv`` has one row per point in the same order, with a header row only when there
is more than one column (a single column has no header, as the projector expects).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError


def _clean(value) -> str:
    # Tabs/newlines inside a label would shift the projector's columns or rows.
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def write_projector(out_dir: str | Path, vectors: np.ndarray, metadata: pd.DataFrame,
                    prefix: str = "") -> tuple[Path, Path]:
    """Write ``<prefix>vectors.tsv`` and ``<prefix>metadata.tsv`` to ``out_dir``.

    Parameters
    ----------
    vectors : array of shape (N, D)
        Finite numbers (e.g. a client representation).
    metadata : DataFrame with N rows
        Labels per point (client id, cluster, true group, site...).

    Returns
    -------
    (vectors_path, metadata_path)
    """
    X = np.asarray(vectors, dtype=np.float64)
    if X.ndim != 2:
        raise DataError(f"projector vectors must be 2-D (points x dims), got shape {X.shape}")
    if len(metadata) != len(X):
        raise DataError(f"projector metadata has {len(metadata)} rows but there are "
                        f"{len(X)} vectors")
    if not np.isfinite(X).all():
        raise DataError("projector vectors contain NaN or infinite values")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    vec_path = out_dir / f"{prefix}vectors.tsv"
    meta_path = out_dir / f"{prefix}metadata.tsv"
    vec_path.write_text("".join("\t".join(repr(float(v)) for v in row) + "\n" for row in X))
    lines = []
    if metadata.shape[1] > 1:
        lines.append("\t".join(_clean(c) for c in metadata.columns))
    for row in metadata.itertuples(index=False):
        lines.append("\t".join(_clean(v) for v in row))
    meta_path.write_text("\n".join(lines) + "\n")
    return vec_path, meta_path
