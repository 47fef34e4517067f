"""Which score a page shows for a set of results: accuracy for classification, RMSE (with
MAE and R²) for regression (:func:`fedcore.regression_metrics.primary_metric`).

Tables never mix the two tasks: :func:`by_task` splits results so each table holds runs of
one task only (a classification run and a regression run have no column in common to rank).
"""

from __future__ import annotations

from fedcore.regression_metrics import Metric, primary_metric

#: Headline names of the summary columns, per task.
TASK_WORDS = {"classification": "accuracy", "regression": "RMSE"}


def task_of(result) -> str:
    """The task of one result (results saved before regression existed are classification)."""
    return getattr(result, "task", "classification") or "classification"


def by_task(results: dict) -> dict[str, dict]:
    """``{task: {key: result}}`` in first-seen order (one table per task)."""
    out: dict[str, dict] = {}
    for key, result in results.items():
        out.setdefault(task_of(result), {})[key] = result
    return out


def metric_for(results: dict, default: str = "classification") -> Metric:
    """The primary metric of ``results`` (all of one task; ``default`` when empty)."""
    tasks = {task_of(r) for r in results.values()} or {default}
    if len(tasks) > 1:
        from fedcore.errors import ConfigError
        raise ConfigError("classification and regression runs cannot share one table")
    return primary_metric(tasks.pop())


def direction(metric: Metric) -> str:
    """``higher is better`` / ``lower is better``, for captions and axis titles."""
    return "higher is better" if metric.higher_is_better else "lower is better"


def round_metrics(task: str) -> dict[str, str]:
    """Per-round columns a learning-curve chooser offers, with readable names."""
    if task == "regression":
        return {"mean_rmse": "mean client RMSE", "worst_rmse": "worst client RMSE (largest)",
                "mean_loss": "mean client loss", "n_clusters": "number of clusters"}
    return {"mean_accuracy": "mean client accuracy",
            "worst_accuracy": "worst client accuracy",
            "mean_loss": "mean client loss", "n_clusters": "number of clusters"}
