"""What separates cluster A from the rest, feature by feature and label by label.

Each cluster's pooled samples are compared with every other client's samples:

* standardized mean difference (Cohen's d with a pooled standard deviation; Cohen 1988,
  "Statistical Power Analysis for the Behavioral Sciences"; |d| >= 0.5 is a medium effect),
* 1-D Wasserstein distance (Vallender 1974, "Calculation of the Wasserstein distance between
  probability distributions on the line"), in units of the feature's overall standard deviation,
* label distributions and their Jensen-Shannon divergence (Lin 1991, "Divergence measures based
  on the Shannon entropy", IEEE Trans. Inf. Theory 37(1)), in bits (0 = same, 1 = disjoint).

For images the "features" are the readable image summaries of
:func:`fedcore.explain.descriptors.image_sample_features`; :func:`pixel_difference` gives the
per-pixel mean difference for a heatmap. Noise clients (label ``-1``) get no row of their own
but are part of "the rest" of every cluster.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..dataset import FederatedDataset
from ..errors import ConfigError
from .descriptors import is_image_dataset, sample_features

MEASURES = ("smd", "wasserstein")
NOISE = -1


def _split_arrays(dataset: FederatedDataset, split: str):
    if split == "train":
        return dataset.x_train, dataset.y_train
    if split == "test":
        return dataset.x_test, dataset.y_test
    raise ConfigError(f"unknown split {split!r}; choose train or test")


def _clusters(labels: np.ndarray) -> list[int]:
    return sorted(int(c) for c in np.unique(labels) if c != NOISE)


def _pooled(arrays, mask: np.ndarray, width: int) -> np.ndarray:
    chosen = [a for a, m in zip(arrays, mask) if m and len(a)]
    return np.concatenate(chosen) if chosen else np.empty((0, width))


def cluster_feature_divergence(dataset: FederatedDataset, labels, measure: str = "smd",
                               split: str = "train") -> pd.DataFrame:
    """Per cluster and feature, how the cluster's samples differ from everyone else's.

    Parameters
    ----------
    dataset : FederatedDataset
    labels : array-like of int, shape (n_clients,)
    measure : {"smd", "wasserstein"}
        ``smd``: signed (cluster minus rest) standardized mean difference with the pooled
        standard deviation ``sqrt((var_c + var_r) / 2)``. ``wasserstein``: non-negative 1-D
        Wasserstein distance divided by the feature's overall standard deviation.
    split : {"train", "test"}

    Returns
    -------
    DataFrame
        ``cluster, feature, value, cluster_mean, rest_mean, rank`` (rank 1 = largest |value|
        within the cluster), sorted by cluster then rank.
    """
    if measure not in MEASURES:
        raise ConfigError(f"unknown divergence measure {measure!r}; choose {' or '.join(MEASURES)}")
    labels = np.asarray(labels)
    xs, _ = _split_arrays(dataset, split)
    feats = [sample_features(dataset, x) for x in xs]
    names = list(feats[0].columns)
    arrays = [f.to_numpy(dtype=np.float64) for f in feats]
    everything = _pooled(arrays, np.ones(len(arrays), bool), len(names))
    overall_sd = everything.std(axis=0) if len(everything) else np.ones(len(names))
    frames = []
    for c in _clusters(labels):
        inside = _pooled(arrays, labels == c, len(names))
        rest = _pooled(arrays, labels != c, len(names))
        if len(inside) == 0 or len(rest) == 0:
            continue
        mean_c, mean_r = inside.mean(axis=0), rest.mean(axis=0)
        if measure == "smd":
            pooled_sd = np.sqrt((inside.var(axis=0) + rest.var(axis=0)) / 2)
            value = np.divide(mean_c - mean_r, pooled_sd, out=np.zeros(len(names)),
                              where=pooled_sd > 1e-12)
        else:
            from scipy.stats import wasserstein_distance

            value = np.array([
                wasserstein_distance(inside[:, j], rest[:, j]) / overall_sd[j]
                if overall_sd[j] > 1e-12 else 0.0 for j in range(len(names))])
        frame = pd.DataFrame({"cluster": c, "feature": names, "value": value,
                              "cluster_mean": mean_c, "rest_mean": mean_r})
        frame["_abs"] = frame["value"].abs()
        frame = frame.sort_values(["_abs", "feature"], ascending=[False, True]).drop(columns="_abs")
        frame["rank"] = np.arange(1, len(frame) + 1)
        frames.append(frame)
    cols = ["cluster", "feature", "value", "cluster_mean", "rest_mean", "rank"]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    out.attrs["measure"] = measure
    return out


def _label_fractions(ys, mask: np.ndarray, n_classes: int) -> np.ndarray:
    counts = np.zeros(n_classes)
    for y, m in zip(ys, mask):
        if m:
            counts += np.bincount(np.asarray(y, dtype=np.int64), minlength=n_classes)
    return counts / counts.sum() if counts.sum() else counts


def label_divergence(dataset: FederatedDataset, labels, split: str = "train") -> pd.DataFrame:
    """Label distribution of each cluster's pooled samples against the rest's.

    Returns
    -------
    DataFrame
        ``cluster, label, label_index, cluster_fraction, rest_fraction, difference``
        (difference = cluster minus rest, in fraction of samples; ``label_index`` = position in
        ``dataset.label_names``), sorted by cluster then |difference|.

    Raises
    ------
    ConfigError
        On a regression task: its target has no label distribution (the descriptors'
        ``label: mean/std`` columns compare targets instead).
    """
    if getattr(dataset, "is_regression", False):
        raise ConfigError("label divergence compares class distributions; a regression "
                          "target has none -- see the target mean/std in the membership "
                          "descriptors")
    labels = np.asarray(labels)
    _, ys = _split_arrays(dataset, split)
    frames = []
    for c in _clusters(labels):
        inside = _label_fractions(ys, labels == c, dataset.n_classes)
        rest = _label_fractions(ys, labels != c, dataset.n_classes)
        frame = pd.DataFrame({"cluster": c, "label": list(dataset.label_names),
                              "label_index": np.arange(dataset.n_classes),
                              "cluster_fraction": inside, "rest_fraction": rest,
                              "difference": inside - rest})
        order = np.lexsort((np.arange(len(frame)), -frame["difference"].abs().to_numpy()))
        frames.append(frame.iloc[order])
    cols = ["cluster", "label", "label_index", "cluster_fraction", "rest_fraction", "difference"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


def label_shift(dataset: FederatedDataset, labels, split: str = "train") -> pd.DataFrame:
    """One number per cluster: Jensen-Shannon divergence (bits) of its label mix vs the rest.

    Returns
    -------
    DataFrame
        ``cluster, n_clients, n_samples, js_divergence``.
    """
    from scipy.spatial.distance import jensenshannon

    labels = np.asarray(labels)
    _, ys = _split_arrays(dataset, split)
    rows = []
    for c in _clusters(labels):
        inside = _label_fractions(ys, labels == c, dataset.n_classes)
        rest = _label_fractions(ys, labels != c, dataset.n_classes)
        js = float(jensenshannon(inside, rest, base=2) ** 2) if rest.sum() and inside.sum() else 0.0
        rows.append({"cluster": c, "n_clients": int((labels == c).sum()),
                     "n_samples": int(sum(len(y) for y, m in zip(ys, labels == c) if m)),
                     "js_divergence": js})
    return pd.DataFrame(rows, columns=["cluster", "n_clients", "n_samples", "js_divergence"])


def pixel_difference(dataset: FederatedDataset, labels, split: str = "train") -> pd.DataFrame:
    """Mean image of each cluster minus the mean image of the rest (images only).

    Returns
    -------
    DataFrame
        ``cluster, row, col, difference`` (one row per pixel); empty for non-image data.
    """
    cols = ["cluster", "row", "col", "difference"]
    if not is_image_dataset(dataset):
        return pd.DataFrame(columns=cols)
    labels = np.asarray(labels)
    xs, _ = _split_arrays(dataset, split)
    h, w = int(dataset.input_shape[0]), int(dataset.input_shape[1])
    rr, cc = np.divmod(np.arange(h * w), w)
    frames = []
    for c in _clusters(labels):
        inside = _pooled(xs, labels == c, h * w)
        rest = _pooled(xs, labels != c, h * w)
        if len(inside) == 0 or len(rest) == 0:
            continue
        diff = inside.mean(axis=0) - rest.mean(axis=0)
        frames.append(pd.DataFrame({"cluster": c, "row": rr, "col": cc, "difference": diff}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
