"""Privacy-light client descriptors: what a client's data (and model) look like, in a few numbers.

Each client becomes one row of aggregate statistics: label fractions, per-feature mean / std /
quartiles, size, missing rates and, when a simulation result is given, model summaries (update
norm, last-layer norm per output class). Images get readable shape summaries instead of
per-pixel statistics: intensity, centre of mass, second moments and the orientation of the ink
(image moments, Hu 1962, "Visual pattern recognition by moment invariants", IRE Trans. Inf.
Theory 8(2)), which is what separates rotated clients.

These descriptors are the inputs of the membership surrogate (:mod:`.surrogate`), following
the global-surrogate idea of Molnar, "Interpretable Machine Learning" (2022), ch. 8.6.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..dataset import FederatedDataset
from ..results import SimulationResult

#: Statistics computed per feature, in priority order (kept first when columns are limited).
FEATURE_STATS = ("mean", "std", "q50", "q25", "q75")
MISSING_SUFFIX = "_missing"


def is_image_dataset(dataset: FederatedDataset) -> bool:
    """Whether samples are square single-channel images (per-pixel stats would be too many)."""
    shape = tuple(dataset.input_shape)
    if dataset.provenance.get("is_image") is not None:
        return bool(dataset.provenance["is_image"])
    return len(shape) >= 2 and shape[0] == shape[1] and (len(shape) == 2 or shape[-1] == 1)


def missing_indicator_features(dataset: FederatedDataset) -> list[str]:
    """Features that record whether a value was missing (0/1).

    Named ``<feature>_missing`` or listed in ``provenance["missing_indicators"]``.
    """
    listed = set(dataset.provenance.get("missing_indicators", []) or [])
    return [f for f in dataset.feature_names if f.endswith(MISSING_SUFFIX) or f in listed]


def image_sample_features(X: np.ndarray, input_shape: tuple[int, ...]) -> pd.DataFrame:
    """Readable per-image shape summaries (one row per image).

    Parameters
    ----------
    X : ndarray of shape (n, h*w)
    input_shape : tuple
        ``(h, w)`` or ``(h, w, 1)``.

    Returns
    -------
    DataFrame with columns ``mean intensity``, ``ink fraction``, ``centre-of-mass row``,
    ``centre-of-mass col``, ``row spread``, ``col spread``, ``ink orientation (deg)``,
    ``ink elongation``, ``mean intensity top-left`` (and the other three quadrants).
    Rows / columns are in pixels from the top-left corner; orientation is the angle of the
    ink's main axis (second central moments), so a rotation of the digits shifts it.
    """
    h, w = int(input_shape[0]), int(input_shape[1])
    imgs = np.asarray(X, dtype=np.float64).reshape(-1, h, w)
    # Weights must be non-negative for moments; standardised pixels are shifted per image.
    ink = imgs - np.minimum(imgs.min(axis=(1, 2), keepdims=True), 0.0)
    mass = ink.sum(axis=(1, 2))
    safe = np.where(mass > 0, mass, 1.0)
    rows = np.arange(h, dtype=np.float64)[None, :, None]
    cols = np.arange(w, dtype=np.float64)[None, None, :]
    r0 = (ink * rows).sum(axis=(1, 2)) / safe
    c0 = (ink * cols).sum(axis=(1, 2)) / safe
    dr = rows - r0[:, None, None]
    dc = cols - c0[:, None, None]
    mu_rr = (ink * dr**2).sum(axis=(1, 2)) / safe
    mu_cc = (ink * dc**2).sum(axis=(1, 2)) / safe
    mu_rc = (ink * dr * dc).sum(axis=(1, 2)) / safe
    # Angle of the main axis w.r.t. the vertical, in degrees (image rows grow downwards).
    orientation = np.degrees(0.5 * np.arctan2(2 * mu_rc, mu_rr - mu_cc))
    spread = np.sqrt(np.maximum((mu_rr - mu_cc) ** 2 + 4 * mu_rc**2, 0.0))
    lam1 = (mu_rr + mu_cc + spread) / 2
    lam2 = np.maximum((mu_rr + mu_cc - spread) / 2, 1e-12)
    peak = imgs.max(axis=(1, 2), keepdims=True)
    thresh = np.where(peak > 0, 0.5 * peak, np.inf)
    hh, hw = h // 2, w // 2
    out = {
        "mean intensity": imgs.mean(axis=(1, 2)),
        "ink fraction": (imgs > thresh).mean(axis=(1, 2)),
        "centre-of-mass row": r0,
        "centre-of-mass col": c0,
        "row spread": np.sqrt(mu_rr),
        "col spread": np.sqrt(mu_cc),
        "ink orientation (deg)": orientation,
        "ink elongation": np.sqrt(lam1 / lam2),
        "mean intensity top-left": imgs[:, :hh, :hw].mean(axis=(1, 2)),
        "mean intensity top-right": imgs[:, :hh, hw:].mean(axis=(1, 2)),
        "mean intensity bottom-left": imgs[:, hh:, :hw].mean(axis=(1, 2)),
        "mean intensity bottom-right": imgs[:, hh:, hw:].mean(axis=(1, 2)),
    }
    return pd.DataFrame(out)


def original_units(dataset: FederatedDataset, X: np.ndarray) -> np.ndarray:
    """Undo the loader's standardisation (``provenance["standardisation"]`` mean/std), if any.

    Explanations speak in the data's own units ("chol 245 mg/dl", "missing in 100%"), not in
    z-scores; standardized mean differences are unaffected.
    """
    X = np.asarray(X, dtype=np.float64)
    std = dataset.provenance.get("standardisation") or {}
    mean, sd = std.get("mean"), std.get("std")
    if mean is None or sd is None or len(mean) != X.shape[1] or len(sd) != X.shape[1]:
        return X
    return X * np.asarray(sd, dtype=np.float64) + np.asarray(mean, dtype=np.float64)


def sample_features(dataset: FederatedDataset, X: np.ndarray) -> pd.DataFrame:
    """The per-sample features explanations talk about: raw features (in original units), or
    readable image summaries."""
    if is_image_dataset(dataset):
        return image_sample_features(X, dataset.input_shape)
    return pd.DataFrame(original_units(dataset, X), columns=list(dataset.feature_names))


def _feature_stats(frame: pd.DataFrame, missing: set[str]) -> dict[str, float]:
    values = frame.to_numpy(dtype=np.float64)
    out: dict[str, float] = {}
    if len(values) == 0:
        return out
    stats = {
        "mean": values.mean(axis=0),
        "std": values.std(axis=0),
        "q25": np.quantile(values, 0.25, axis=0),
        "q50": np.quantile(values, 0.50, axis=0),
        "q75": np.quantile(values, 0.75, axis=0),
    }
    for j, name in enumerate(frame.columns):
        if name in missing:
            base = name[: -len(MISSING_SUFFIX)] if name.endswith(MISSING_SUFFIX) else name
            out[f"missing: {base}"] = float(stats["mean"][j])
            continue
        for stat in FEATURE_STATS:
            out[f"{stat}: {name}"] = float(stats[stat][j])
    return out


def _model_descriptors(dataset: FederatedDataset, result: SimulationResult) -> pd.DataFrame:
    reps = result.representations or {}
    cols: dict[str, np.ndarray] = {}
    updates = reps.get("updates")
    if updates is not None and updates.X is not None:
        cols["model: update norm"] = np.linalg.norm(np.asarray(updates.X, dtype=np.float64), axis=1)
    last = reps.get("last_layer")
    if last is not None and last.X is not None:
        W = np.asarray(last.X, dtype=np.float64)
        C = getattr(dataset, "n_outputs", dataset.n_classes)
        if C > 1 and W.shape[1] % C == 0:
            # Flat Dense kernel (in, C) then bias (C,): element j belongs to class j % C.
            cls = np.arange(W.shape[1]) % C
            for k, label in enumerate(dataset.label_names):
                cols[f"last-layer norm: class {label}"] = np.linalg.norm(W[:, cls == k], axis=1)
        else:
            cols["last-layer norm"] = np.linalg.norm(W, axis=1)
    return pd.DataFrame(cols, index=pd.Index(dataset.client_ids, name="client"))


def _label_stats(dataset: FederatedDataset, y) -> dict[str, float]:
    """Label fractions of one client, or (regression) its target's mean and std."""
    if getattr(dataset, "is_regression", False):
        y = dataset.raw_targets(y) if hasattr(dataset, "raw_targets") else np.asarray(
            y, dtype=np.float64)  # the target's own units, like the features
        name = dataset.target_name
        return {f"label: mean {name}": float(y.mean()) if y.size else 0.0,
                f"label: std {name}": float(y.std()) if y.size else 0.0}
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=dataset.n_classes)
    fractions = counts / max(len(y), 1)
    return {f"label: {label}": float(frac) for label, frac in zip(dataset.label_names,
                                                                    fractions)}


def _priority(name: str) -> int:
    head = name.split(":", 1)[0]
    order = {"n_train": 0, "label": 1, "missing": 2, "model": 3, "last-layer norm": 3}
    if head in order:
        return order[head]
    if head in FEATURE_STATS:
        return 4 + FEATURE_STATS.index(head)
    return 10


def client_descriptors(dataset: FederatedDataset, result: SimulationResult | None = None,
                       max_columns: int = 200) -> pd.DataFrame:
    """One row of privacy-light summary statistics per client.

    Parameters
    ----------
    dataset : FederatedDataset
    result : SimulationResult, optional
        Adds model descriptors from ``result.representations`` (``updates``, ``last_layer``).
    max_columns : int
        Upper bound on the number of descriptors. When exceeded, columns are kept in priority
        order: size, label fractions, missing rates, model, then means, stds, medians, quartiles.

    Returns
    -------
    DataFrame
        Index = client id. Columns ``n_train``, ``label: <name>`` (regression: ``label: mean
        <target>``, ``label: std <target>``), ``mean: <feature>``,
        ``std: ...``, ``q25/q50/q75: ...``, ``missing: <feature>``, ``model: update norm``,
        ``last-layer norm: class <label>``. Constant columns are dropped (they explain nothing).
        Images use the summaries of :func:`image_sample_features` as features.
    """
    missing = set(missing_indicator_features(dataset))
    rows = []
    for X, y in zip(dataset.x_train, dataset.y_train):
        row: dict[str, float] = {"n_train": float(len(y))}
        row.update(_label_stats(dataset, y))
        row.update(_feature_stats(sample_features(dataset, X), missing))
        rows.append(row)
    table = pd.DataFrame(rows, index=pd.Index(dataset.client_ids, name="client"))
    if result is not None:
        model = _model_descriptors(dataset, result)
        if len(model.columns) and len(model) == len(table):
            table = pd.concat([table, model.set_axis(table.index)], axis=1)
    table = table.loc[:, table.nunique(dropna=True) > 1]
    if table.shape[1] > max_columns:
        order = sorted(range(table.shape[1]), key=lambda j: (_priority(table.columns[j]), j))
        table = table.iloc[:, sorted(order[:max_columns])]
    return table


def descriptor_source(name: str) -> str:
    """What a descriptor is about, to group related descriptors.

    ``"mean: chol"`` and ``"q25: chol"`` -> ``"chol"``; every ``"label: ..."`` -> ``"label mix"``;
    ``"missing: chol"`` -> ``"chol (missing)"``; model descriptors -> ``"model"``;
    ``"n_train"`` -> ``"size"``.
    """
    head, _, tail = name.partition(": ")
    if name == "n_train":
        return "size"
    if head == "label":
        return "label mix"
    if head == "missing":
        return f"{tail} (missing)"
    if head in ("model", "last-layer norm"):
        return "model"
    return tail if tail else name
