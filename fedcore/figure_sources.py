"""The data behind the figures of a figure pack, from the results it is made of.

Every figure a pack exports is declared once on its plot's entry in
:data:`fedcore.plots.FIGURES` as a :class:`PackFigure`: the file name, the pack it belongs to
and one of the data builders below (results in, tidy DataFrame out, None when the figure does
not apply). :func:`fedcore.figure_pack.build_pack` walks the registry.

Packs
-----
``session``
    The Export page's figure pack: every result of the session, side by side (keyed by the
    display name), plus the dataset's label mix.
``run``
    ``python -m fedcore report RUN``: the figures of one stored run, rebuilt from disk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .metrics import client_accuracy_table, method_summary
from .results import SimulationResult

PACKS = ("session", "run")


@dataclass(frozen=True)
class FigureSources:
    """What a pack's figures are made of.

    Attributes
    ----------
    results : dict of str to SimulationResult
        Keyed by the name the figures show (``run`` packs hold exactly one result).
    dataset : FederatedDataset, optional
    """

    results: dict
    dataset: object = None


@dataclass(frozen=True)
class PackFigure:
    """One file of a figure pack.

    Attributes
    ----------
    file_name : str
        Export name (``<file_name>.<fmt>`` and ``<file_name>.csv``).
    pack : str
        One of :data:`PACKS`.
    data : callable
        ``data(sources) -> DataFrame or None`` (None: the figure does not apply).
    kwargs : dict
        Extra keyword arguments of the plot function.
    table : callable, optional
        ``table(data) -> DataFrame`` written as the CSV when it differs from the plot input.
    """

    file_name: str
    pack: str
    data: Callable[[FigureSources], pd.DataFrame | None]
    kwargs: dict = field(default_factory=dict)
    table: Callable[[pd.DataFrame], pd.DataFrame] | None = None


def stacked_rounds(results: dict) -> pd.DataFrame:
    """All results' per-round metrics stacked with a ``method`` column (the results' keys)."""
    frames = [r.rounds.assign(method=key) for key, r in results.items() if len(r.rounds)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def session_rounds(src: FigureSources) -> pd.DataFrame:
    return stacked_rounds(src.results)


def session_clients(src: FigureSources) -> pd.DataFrame:
    return client_accuracy_table(src.results)


def session_summary(src: FigureSources) -> pd.DataFrame:
    return method_summary(src.results)


def label_counts(src: FigureSources) -> pd.DataFrame | None:
    """Label counts per client (None for a regression target: it has no classes)."""
    if src.dataset is None or getattr(src.dataset, "is_regression", False):
        return None
    return src.dataset.label_counts()


def target_values(src: FigureSources) -> pd.DataFrame | None:
    """``client, split, value`` of a regression target (None for classification)."""
    if src.dataset is None or not getattr(src.dataset, "is_regression", False):
        return None
    return dataset_target_frame(src.dataset)


def dataset_target_frame(ds) -> pd.DataFrame:
    """``client, split, value`` of a regression dataset's target in its OWN units (stored
    targets are standardised for training, see ``FederatedDataset.target_scale``)."""
    return target_frame(ds.client_ids, [ds.raw_targets(y) for y in ds.y_train],
                        [ds.raw_targets(y) for y in ds.y_test])


def _only(src: FigureSources) -> SimulationResult:
    (result,) = src.results.values()
    return result


def run_rounds(src: FigureSources) -> pd.DataFrame:
    result = _only(src)
    return result.rounds.assign(method=result.method)


def run_worst_rounds(src: FigureSources) -> pd.DataFrame | None:
    rounds = run_rounds(src)
    return rounds if "worst_accuracy" in rounds or "worst_rmse" in rounds else None


def run_clients(src: FigureSources) -> pd.DataFrame:
    result = _only(src)
    clients = result.client_metrics.assign(method=result.method)
    if "true_group" not in clients and result.true_groups is not None:
        clients["true_group"] = np.asarray(result.true_groups)
    return clients


def run_assignment_history(src: FigureSources) -> pd.DataFrame | None:
    """``round, client, cluster`` of every round (None without a 2-D history)."""
    result = _only(src)
    history = np.asarray(result.assignment_history)
    if history.ndim != 2 or not history.size:
        return None
    return pd.DataFrame({
        "round": np.repeat(np.arange(1, history.shape[0] + 1), history.shape[1]),
        "client": np.tile(np.asarray(result.client_ids, dtype=str), history.shape[0]),
        "cluster": history.ravel()})


def target_frame(client_ids, y_train, y_test) -> pd.DataFrame:
    """Tidy ``client, split, value`` rows of every client's continuous targets."""
    frames = []
    for cid, tr, te in zip(client_ids, y_train, y_test):
        for split, y in (("train", tr), ("test", te)):
            y = np.asarray(y, dtype=np.float64).ravel()
            frames.append(pd.DataFrame({"client": str(cid), "split": split, "value": y}))
    if not frames:
        return pd.DataFrame(columns=["client", "split", "value"])
    return pd.concat(frames, ignore_index=True)
