"""Figures of what the cluster MODELS do: SHAP attributions and prediction disagreement.

Inputs from :func:`fedcore.explain.cluster_model_attributions` and
:func:`fedcore.explain.prediction_disagreement`; tidy DataFrame in, plotly Figure out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .theme import cluster_color, finish, subplot_grid

#: Colours of reference models (e.g. FedAvg) next to the cluster models (Okabe-Ito).
MODEL_COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]


def cluster_model_attribution_bars(attributions: pd.DataFrame, top: int = 10) -> go.Figure:
    """Mean |SHAP| of each model's top features, models side by side.

    Parameters
    ----------
    attributions : DataFrame
        ``model, feature, mean_abs_shap, rank`` (:func:`cluster_model_attributions`).
    top : int
        Features shown: union of each model's top ones, ordered by their best rank.
    """
    if attributions is None or attributions.empty:
        return finish(go.Figure(), "cluster_model_attribution", "What each model looks at")
    best = attributions[attributions["rank"] <= top].groupby("feature")["rank"].min()
    keep = best.sort_values(kind="stable").index.tolist()[: 2 * top]
    fig = go.Figure()
    for i, model in enumerate(dict.fromkeys(attributions["model"])):
        part = attributions[attributions["model"] == model].set_index("feature").reindex(keep)
        color = (cluster_color(int(model.split()[-1])) if model.startswith("cluster ")
                 and model.split()[-1].lstrip("-").isdigit() else MODEL_COLORS[i % 7])
        fig.add_trace(go.Bar(x=keep, y=part["mean_abs_shap"], name=model, marker_color=color))
    method = attributions.attrs.get("method", "")
    output = attributions.attrs.get("output", "predicted-class logit")
    fig.update_yaxes(title_text=f"mean |SHAP| ({output})")
    fig.update_layout(barmode="group")
    return finish(fig, "cluster_model_attribution",
                  f"What each model looks at{f' ({method} SHAP)' if method else ''}")


def cluster_model_attribution_maps(attributions: pd.DataFrame, image_shape: tuple[int, int]
                                   ) -> go.Figure:
    """Mean |SHAP| per pixel of each model as an image (one panel per model).

    ``attributions``: ``model, feature_index, mean_abs_shap`` covering every pixel of each
    model (:func:`cluster_model_attributions`); ``feature_index`` is the row-major pixel.
    """
    models = list(dict.fromkeys(attributions["model"])) if attributions is not None else []
    if not models:
        return finish(go.Figure(), "cluster_model_attribution_map", "What each model looks at")
    h, w = int(image_shape[0]), int(image_shape[1])
    rows, cols = subplot_grid(len(models))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=models)
    for i, model in enumerate(models):
        part = attributions[attributions["model"] == model].sort_values("feature_index")
        fig.add_trace(go.Heatmap(z=part["mean_abs_shap"].to_numpy().reshape(h, w),
                                 colorscale="Viridis", showscale=i == 0,
                                 colorbar={"title": "mean |SHAP|"}),
                      row=i // cols + 1, col=i % cols + 1)
        fig.update_yaxes(scaleanchor=f"x{i + 1 if i else ''}", row=i // cols + 1,
                         col=i % cols + 1)
    bare = {"showticklabels": False, "showline": False, "showgrid": False, "ticks": ""}
    fig.update_yaxes(autorange="reversed", **bare)
    fig.update_xaxes(**bare)
    method = attributions.attrs.get("method", "")
    return finish(fig, "cluster_model_attribution_map",
                  f"Where each model looks{f' ({method} SHAP)' if method else ''}",
                  height=60 + 260 * rows, margin={"t": 80})


def disagreement_heatmap(table: pd.DataFrame, max_classes: int = 20,
                         label_threshold: float = 0.3) -> go.Figure:
    """Per cluster: class the OTHER cluster models agree on x class this cluster's model predicts.

    Each cell is the fraction of the inputs the others call ``reference_class`` (row) that
    this cluster's model calls ``predicted_class`` (column); the diagonal (agreement) is left
    blank so swaps stand out as a symmetric pair of dark cells. Cells >= ``label_threshold``
    are written out.

    Parameters
    ----------
    table : DataFrame
        :func:`~fedcore.explain.disagreement.prediction_disagreement`.
    max_classes : int
        With more classes, only those in a cell >= ``label_threshold`` (else the most
        frequent) are drawn.
    """
    name, base = "prediction_disagreement", "Where each cluster model disagrees with the others"
    if table is None or not len(table):
        note = "" if table is None else table.attrs.get("note", "")
        fig = finish(go.Figure(), name, f"{base}{f' ({note})' if note else ''}")
        return fig
    rates = table.attrs.get("disagreement_rate") or {}
    clusters = sorted(set(table["cluster"]) | {int(c) for c in rates})
    names = list(table.attrs.get("label_names") or [])
    index_to_name = dict(zip(table["reference_index"], table["reference_class"]))
    index_to_name.update(zip(table["predicted_index"], table["predicted_class"]))
    if names:
        index_to_name.update(enumerate(names))
    classes = sorted(index_to_name)
    if len(classes) > max_classes:
        strong = table[table["fraction"] >= label_threshold]
        pool = strong if len(strong) else table.nlargest(max_classes, "count")
        classes = sorted(set(pool["reference_index"]) | set(pool["predicted_index"]))
        classes = classes[:max_classes]
    pos = {k: i for i, k in enumerate(classes)}
    ticks = [str(index_to_name[k]) for k in classes]
    rows, cols = subplot_grid(len(clusters))
    titles = [f"cluster {c}" + (f": differs on {rates[c]:.0%} of inputs" if c in rates
                                else "") for c in clusters]
    n_inputs = table.attrs.get("n_inputs")
    if n_inputs:
        base += f" ({n_inputs} held-out inputs)"
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles,
                        horizontal_spacing=0.08, vertical_spacing=0.16)
    for i, c in enumerate(clusters):
        part = table[(table["cluster"] == c) & table["reference_index"].isin(pos)
                     & table["predicted_index"].isin(pos)]
        z = np.full((len(classes), len(classes)), np.nan)
        n = np.zeros_like(z)
        for r in part.itertuples():
            z[pos[r.reference_index], pos[r.predicted_index]] = r.fraction
            n[pos[r.reference_index], pos[r.predicted_index]] = r.n
        for k in range(len(classes)):  # agreement: not drawn, but 0 off-diagonal is shown
            z[k, k] = np.nan
        off = ~np.eye(len(classes), dtype=bool) & np.isnan(z)
        z[off] = 0.0
        text = np.where(np.nan_to_num(z) >= label_threshold,
                        np.vectorize(lambda v: f"{v:.0%}")(np.nan_to_num(z)), "")
        fig.add_trace(go.Heatmap(
            z=z, x=ticks, y=ticks, zmin=0, zmax=1, colorscale="Reds", showscale=i == 0,
            text=text, texttemplate="%{text}", textfont={"size": 10}, customdata=n,
            xgap=1, ygap=1,
            colorbar={"title": {"text": "fraction", "side": "right"}, "tickformat": ".0%",
                      "thickness": 10},
            hovertemplate=f"cluster {c}<br>other models: %{{y}}<br>this model: %{{x}}"
                          "<br>%{z:.0%} of %{customdata:.0f} inputs<extra></extra>"),
            row=i // cols + 1, col=i % cols + 1)
    fig.update_xaxes(type="category", title_text="this cluster's model predicts")
    fig.update_yaxes(type="category", autorange="reversed")
    fig.update_yaxes(title_text="other models agree on", col=1)
    return finish(fig, name, base, height=max(360, 80 + 300 * rows), margin={"t": 90})
