"""Error metrics of a regression task, and which metric ranks methods for each task.

Every page, table and export that shows accuracy for a classification task shows these
for a regression task: MAE, RMSE and R², per client (on the client's own test data) and
averaged over clients. R² is computed against the client's own test mean (the
coefficient of determination, Wright 1921; scikit-learn's ``r2_score`` convention), so a
client whose test targets are constant has no R² (NaN) rather than an infinite one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: The per-client error columns of a regression task, in display order.
REGRESSION_COLUMNS = ("mae", "rmse", "r2")


@dataclass(frozen=True)
class Metric:
    """The metric that ranks methods for a task.

    Attributes
    ----------
    name : str
        Column name in per-client and per-round tables (``accuracy``, ``rmse``).
    label : str
        How tables and figure axes name it.
    higher_is_better : bool
    """

    name: str
    label: str
    higher_is_better: bool

    def best(self, values) -> float:
        """The best of ``values`` (NaNs ignored)."""
        arr = np.asarray(values, dtype=float)
        return float(np.nanmax(arr) if self.higher_is_better else np.nanmin(arr))

    def worst(self, values) -> float:
        """The worst of ``values`` (NaNs ignored): the worst-off client."""
        arr = np.asarray(values, dtype=float)
        return float(np.nanmin(arr) if self.higher_is_better else np.nanmax(arr))


PRIMARY = {
    "classification": Metric("accuracy", "accuracy", higher_is_better=True),
    "regression": Metric("rmse", "RMSE", higher_is_better=False),
}


def task_of(obj) -> str:
    """The task of a dataset or result; objects saved before tasks existed are classification."""
    return getattr(obj, "task", None) or "classification"


def common_task(tasks, default: str = "classification") -> str:
    """The one task shared by ``tasks`` (strings; an empty or missing entry is classification,
    as saved before tasks existed); ``default`` when there are none.

    Raises
    ------
    ConfigError
        When both tasks occur: no table or figure can rank the two together.
    """
    found = {t if isinstance(t, str) and t else "classification" for t in tasks}
    if len(found) > 1:
        from .errors import ConfigError
        raise ConfigError("classification and regression runs cannot share one table; "
                          "choose runs of one task")
    return found.pop() if found else default


def metric_named(name: str) -> Metric:
    """The primary :class:`Metric` called ``name`` (``accuracy`` or ``rmse``, as runs record
    it under ``primary_metric``)."""
    return next(m for m in PRIMARY.values() if m.name == name)


def primary_metric(task: str) -> Metric:
    """The metric that ranks methods on a ``task`` (``classification`` or ``regression``)."""
    return PRIMARY[task]


def regression_scores(y_true, y_pred) -> dict[str, float]:
    """MAE, RMSE and R² of one client's predictions.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)

    Returns
    -------
    dict
        ``{"mae", "rmse", "r2"}``; all NaN for an empty client, ``r2`` NaN when the
        client's targets are constant.
    """
    y = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_pred, dtype=np.float64).ravel()
    if y.shape != p.shape:
        raise ValueError(f"{y.shape[0]} targets but {p.shape[0]} predictions")
    if y.size == 0:
        return {"mae": float("nan"), "rmse": float("nan"), "r2": float("nan")}
    err = p - y
    sse = float(np.sum(err ** 2))
    sst = float(np.sum((y - y.mean()) ** 2))
    return {"mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(sse / y.size)),
            "r2": 1.0 - sse / sst if sst > 0 else float("nan")}
