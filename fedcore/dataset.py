"""The in-memory federated dataset every other module consumes.

A :class:`PooledData` is a plain (X, y) table before it is split into clients;
a :class:`FederatedDataset` holds per-client train/test arrays plus the optional
ground truth (true group of each client) and per-client metadata.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import DataError

#: Every client needs one sample to train on and one to test on.
MIN_CLIENT_SAMPLES = 2

#: What a dataset's label is: a class index, or a continuous value to predict.
TASKS = ("classification", "regression")


def check_task(task: str) -> str:
    """``task`` if it is one of :data:`TASKS`, else a :class:`DataError`."""
    if task not in TASKS:
        raise DataError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    return task


def too_few_samples(client: str, n: int) -> DataError:
    """The error for a client that cannot be split into a train and a test part."""
    noun = "sample" if n == 1 else "samples"
    return DataError(f"client '{client}' has {n} {noun}; each client needs at least "
                     f"{MIN_CLIENT_SAMPLES} (one to train, one to test)")


@dataclass
class PooledData:
    """A pooled dataset: rows are samples, before any federated split.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features), float32
        Flattened, numeric, finite features.
    y : ndarray of shape (n_samples,)
        Classification: int64 class index in ``range(len(label_names))``. Regression:
        float32 target value (``label_names`` is then the target's one name).
    feature_names, label_names : list of str
    input_shape : tuple of int
        Shape of one sample for models (``(28, 28, 1)`` for images, ``(d,)`` otherwise).
    client_column : ndarray of str or None
        Natural client id of each row (hospital, station) when the data has one.
    name : str
    is_image : bool
        Whether samples are square single-channel images (enables image scenarios).
    task : {"classification", "regression"}
    time : ndarray of datetime64[D] or None
        Date of each row when the rows are the steps of per-client time series (one row
        per client and date, target observed); the ``forecasting`` scenario needs it.
    client_groups : dict of str to int or None
        A documented ground-truth group of each natural client (e.g. a station's site
        type); the natural and forecasting scenarios use it as ``true_groups``.
    client_metadata : DataFrame or None
        One row per natural client (index = client id), e.g. site type or altitude.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    label_names: list[str]
    input_shape: tuple[int, ...]
    client_column: np.ndarray | None = None
    name: str = "data"
    is_image: bool = False
    description: str = ""
    task: str = "classification"
    time: np.ndarray | None = None
    client_groups: dict[str, int] | None = None
    client_metadata: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        check_task(self.task)


@dataclass
class FederatedDataset:
    """Per-client train/test arrays and what is known about the clients.

    Attributes
    ----------
    client_ids : list of str
        One id per client; index ``i`` everywhere refers to ``client_ids[i]``.
    x_train, y_train, x_test, y_test : list of ndarray
        Per-client arrays: X float32 of shape (n_i, n_features), y of shape (n_i,): int64
        class indices (classification) or float32 targets (regression).
    feature_names, label_names : list of str
    input_shape : tuple of int
        Shape of one sample for models; ``prod(input_shape) == n_features``.
    true_groups : ndarray of int or None
        Known group of each client (scenario ground truth), if any.
    metadata : DataFrame or None
        One row per client (index = client id), e.g. site or region.
    name : str
        Human-readable name, e.g. ``"mnist_5k / rotation"``.
    provenance : dict
        How the dataset was made (source, scenario, parameters, seeds); feeds fingerprints.
    task : {"classification", "regression"}
        Regression: ``label_names`` holds the target's name, models have one linear output.
    target_scale : (float, float) or None
        Regression only: ``(mean, std)`` of the pooled TRAIN targets; the stored targets are
        ``y = (raw - mean) / std`` so that default training settings fit any unit (ppb,
        grams). Models train and report their loss on this scale; every reported error
        (MAE, RMSE) is converted back with :meth:`raw_targets`. None: targets are raw.
    """

    client_ids: list[str]
    x_train: list[np.ndarray]
    y_train: list[np.ndarray]
    x_test: list[np.ndarray]
    y_test: list[np.ndarray]
    feature_names: list[str]
    label_names: list[str]
    input_shape: tuple[int, ...]
    true_groups: np.ndarray | None = None
    metadata: pd.DataFrame | None = None
    name: str = "data"
    provenance: dict = field(default_factory=dict)
    task: str = "classification"
    target_scale: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        check_task(self.task)
        if self.target_scale is not None:
            mean, std = (float(v) for v in self.target_scale)
            if not (np.isfinite(mean) and np.isfinite(std) and std > 0):
                raise DataError(f"target_scale needs a finite mean and a positive std, "
                                f"got {self.target_scale}")
            self.target_scale = (mean, std)

    @property
    def target_std(self) -> float:
        """Factor from standardised to raw target units (1.0 when targets are raw)."""
        return 1.0 if self.target_scale is None else self.target_scale[1]

    @property
    def target_name(self) -> str:
        """Name of a regression dataset's target (its single label name)."""
        return str(self.label_names[0]) if len(self.label_names) else "target"

    def raw_targets(self, y) -> np.ndarray:
        """Stored (possibly standardised) targets or predictions in the target's own units."""
        y = np.asarray(y, dtype=np.float64)
        if self.target_scale is None:
            return y
        mean, std = self.target_scale
        return y * std + mean

    @property
    def is_regression(self) -> bool:
        return self.task == "regression"

    @property
    def n_outputs(self) -> int:
        """Width of a model's output layer: classes, or 1 for a regression target."""
        return 1 if self.is_regression else self.n_classes

    @property
    def n_clients(self) -> int:
        return len(self.client_ids)

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    @property
    def n_classes(self) -> int:
        return len(self.label_names)

    def train_sizes(self) -> np.ndarray:
        return np.array([len(y) for y in self.y_train], dtype=np.int64)

    def test_sizes(self) -> np.ndarray:
        return np.array([len(y) for y in self.y_test], dtype=np.int64)

    def label_counts(self, split: str = "train") -> pd.DataFrame:
        """Clients x labels count table (index = client id, columns = label names)."""
        ys = self.y_train if split == "train" else self.y_test
        counts = np.stack([np.bincount(y, minlength=self.n_classes) for y in ys])
        return pd.DataFrame(counts, index=pd.Index(self.client_ids, name="client"),
                            columns=self.label_names)

    def summary(self) -> pd.DataFrame:
        """One row per client: sizes, number of labels present, true group, metadata."""
        df = pd.DataFrame({
            "client": self.client_ids,
            "n_train": self.train_sizes(),
            "n_test": self.test_sizes(),
            "n_labels": [int(len(np.unique(y))) for y in self.y_train],
        })
        if self.true_groups is not None:
            df["true_group"] = np.asarray(self.true_groups)
        if self.metadata is not None:
            meta = self.metadata.reindex(self.client_ids).reset_index(drop=True)
            for col in meta.columns:
                if col not in df.columns:
                    df[col] = meta[col].to_numpy()
        return df

    def fingerprint(self) -> str:
        """SHA-256 (hex, 16 chars) of every array and name: equal data, equal fingerprint."""
        h = hashlib.sha256()
        for cid, a, b, c, d in zip(self.client_ids, self.x_train, self.y_train,
                                   self.x_test, self.y_test):
            h.update(cid.encode())
            for arr in (a, b, c, d):
                arr = np.ascontiguousarray(arr)
                h.update(str(arr.shape).encode())
                h.update(arr.tobytes())
        h.update("|".join(self.feature_names).encode())
        h.update("|".join(self.label_names).encode())
        if self.true_groups is not None:
            h.update(np.asarray(self.true_groups, dtype=np.int64).tobytes())
        if self.is_regression:  # classification fingerprints stay as they were
            h.update(b"task=regression")
        if self.target_scale is not None:
            h.update(repr(self.target_scale).encode())
        return h.hexdigest()[:16]
