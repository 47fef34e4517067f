"""Which score a page shows for a set of results: accuracy for classification, RMSE (with
MAE and R²) for regression (:func:`fedcore.regression_metrics.primary_metric`).

Tables never mix the two tasks: :func:`by_task` splits results so each table holds runs of
one task only (a classification run and a regression run have no column in common to rank).
"""

from __future__ import annotations

from fedcore.regression_metrics import Metric, common_task, primary_metric, task_of

__all__ = ["by_task", "direction", "metric_for", "round_metrics", "task_of"]

def by_task(results: dict) -> dict[str, dict]:
    """``{task: {key: result}}`` in first-seen order (one table per task)."""
    out: dict[str, dict] = {}
    for key, result in results.items():
        out.setdefault(task_of(result), {})[key] = result
    return out


def metric_for(results: dict, default: str = "classification") -> Metric:
    """The primary metric of ``results`` (all of one task; ``default`` when empty)."""
    return primary_metric(common_task((task_of(r) for r in results.values()), default))


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


def dataset_caption(ds) -> str:
    """One line describing the loaded dataset for the Simulate page."""
    if getattr(ds, "is_regression", False):
        what = f"regression of **{ds.target_name}** (scored by RMSE, MAE and R²)"
    else:
        what = f"{ds.n_classes} classes"
    return (f"Dataset **{ds.name}**: {ds.n_clients} clients, {ds.n_features} features, "
            f"{what}. Each method runs with the same model, seed and data; every finished "
            "run is saved to the runs folder automatically.")


def score_text(result) -> str:
    """The headline score of a finished run for its progress bar."""
    if task_of(result) == "regression":
        return f"mean RMSE {result.mean_client_score:.3f} (lower is better)"
    return f"mean accuracy {result.mean_client_accuracy:.3f}"
