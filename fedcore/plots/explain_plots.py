"""Figures of :mod:`fedcore.explain`: tidy DataFrame in, plotly Figure out.

Figures of the cluster MODELS (SHAP attributions, prediction disagreement) live in
:mod:`fedcore.plots.model_explain_plots` and are re-exported here. Every figure stores a stable
export name in ``fig.layout.meta["name"]`` (the names the
plain-language statements cite). Membership figures carry the surrogate fidelity in the title,
so an exported figure never loses its caveat.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = ["fidelity_title", "shap_bar", "shap_beeswarm", "divergence_heatmap",
           "label_divergence_bars", "pixel_difference_heatmap", "explanation_figures",
           "cluster_model_attribution_bars", "cluster_model_attribution_maps",
           "disagreement_heatmap", "MODEL_COLORS"]

from .model_explain_plots import (
    MODEL_COLORS,
    cluster_model_attribution_bars,
    cluster_model_attribution_maps,
    disagreement_heatmap,
)
from .theme import DIVERGING, cluster_color, finish, register_theme, subplot_grid

register_theme(set_default=False)  # idempotent; finish() refers to the template by name


def fidelity_title(base: str, fidelity: float | None, trustworthy: bool | None = None) -> str:
    """``base`` plus the surrogate's fidelity, flagged when it is not trustworthy."""
    if fidelity is None:
        return f"{base} (fidelity: cannot be estimated)"
    flag = "" if trustworthy or trustworthy is None else " - not reliable"
    return f"{base} (fidelity {fidelity:.0%}{flag})"


def shap_bar(ranking: pd.DataFrame, top: int = 10, fidelity: float | None = None,
             trustworthy: bool | None = None) -> go.Figure:
    """Top descriptors per cluster by mean |SHAP| (one panel per cluster).

    Parameters
    ----------
    ranking : DataFrame
        ``cluster, descriptor, mean_abs_shap, rank`` (``MembershipExplanation.ranking``), or
        ``cluster, source, ...`` (``.source_ranking``: per feature, figure
        ``membership_source_bar``).
    top : int
    fidelity, trustworthy : optional
        Shown in the title.
    """
    clusters = sorted(ranking["cluster"].unique()) if len(ranking) else []
    by_source = "source" in ranking.columns
    item, name = ("source", "membership_source_bar") if by_source else (
        "descriptor", "membership_shap_bar")
    what = "feature (grouped SHAP)" if by_source else "descriptor"
    title = fidelity_title(f"Cluster membership by {what}", fidelity, trustworthy)
    if not clusters:
        return finish(go.Figure(), name, title)
    rows, cols = subplot_grid(len(clusters))
    # ~100 px between rows: the x-axis title of a row and the next row's panel title.
    height = max(340, 90 + rows * 28 * top + (rows - 1) * 100)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[f"cluster {c}" for c in clusters],
                        horizontal_spacing=0.25 if cols > 1 else 0.1,
                        vertical_spacing=min(0.3, 100 / height) if rows > 1 else 0.12)
    for i, c in enumerate(clusters):
        part = ranking[ranking["cluster"] == c].nsmallest(top, "rank").iloc[::-1]
        fig.add_trace(go.Bar(x=part["mean_abs_shap"], y=part[item], orientation="h",
                             marker_color=cluster_color(c), name=f"cluster {c}",
                             showlegend=False), row=i // cols + 1, col=i % cols + 1)
    fig.update_xaxes(title_text="mean |SHAP|")
    return finish(fig, name, title, height=height, margin={"t": 90})


def shap_beeswarm(long_shap: pd.DataFrame, cluster: int | None = None,
                  fidelity: float | None = None, trustworthy: bool | None = None,
                  seed: int = 0) -> go.Figure:
    """One dot per client and descriptor: SHAP on x, descriptor on y, colour = its value.

    Parameters
    ----------
    long_shap : DataFrame
        ``cluster, client, descriptor, shap, value, value_scaled``
        (``MembershipExplanation.long_shap()``).
    cluster : int, optional
        Which cluster; default the first.
    """
    base = "SHAP of cluster membership per client"
    if long_shap.empty:
        return finish(go.Figure(), "membership_shap_beeswarm",
                      fidelity_title(base, fidelity, trustworthy))
    cluster = sorted(long_shap["cluster"].unique())[0] if cluster is None else cluster
    part = long_shap[long_shap["cluster"] == cluster]
    order = part.groupby("descriptor")["shap"].apply(lambda s: s.abs().mean()).sort_values()
    ypos = {d: i for i, d in enumerate(order.index)}
    jitter = np.random.default_rng(seed).uniform(-0.3, 0.3, size=len(part))
    fig = go.Figure(go.Scatter(
        x=part["shap"], y=part["descriptor"].map(ypos) + jitter, mode="markers",
        marker={"color": part["value_scaled"], "colorscale": "Viridis", "size": 7,
                "colorbar": {"title": "descriptor value<br>(low to high)"}},
        customdata=np.stack([part["client"].astype(str), part["descriptor"],
                             part["value"]], axis=1),
        hovertemplate="client %{customdata[0]}<br>%{customdata[1]} = %{customdata[2]:.3g}"
                      "<br>SHAP %{x:.3f}<extra></extra>"))
    fig.update_yaxes(tickvals=list(ypos.values()), ticktext=list(ypos.keys()))
    fig.update_xaxes(title_text=f"SHAP value (impact on P(cluster {cluster}))")
    return finish(fig, "membership_shap_beeswarm",
                  fidelity_title(f"{base}: cluster {cluster}", fidelity, trustworthy),
                  height=max(320, 60 + 30 * len(ypos)))


def _matrix(frame: pd.DataFrame, column: str, value: str, keep: list) -> pd.DataFrame:
    mat = frame.pivot_table(index="cluster", columns=column, values=value, aggfunc="first")
    return mat.reindex(columns=keep)


def divergence_heatmap(divergence: pd.DataFrame, label_div: pd.DataFrame | None = None,
                       top: int = 15) -> go.Figure:
    """Clusters x features divergence, with the label differences alongside.

    Parameters
    ----------
    divergence : DataFrame
        ``cluster, feature, value`` (:func:`cluster_feature_divergence`).
    label_div : DataFrame, optional
        ``cluster, label, difference`` (:func:`label_divergence`).
    top : int
        Features shown: the largest max |value| over clusters.
    """
    measure = divergence.attrs.get("measure", "smd")
    vtitle = "SMD" if measure == "smd" else "Wasserstein (sd)"
    with_labels = label_div is not None and len(label_div) > 0
    fig = make_subplots(rows=1, cols=2 if with_labels else 1, column_widths=[0.7, 0.3]
                        if with_labels else None, horizontal_spacing=0.16,
                        subplot_titles=[f"features ({vtitle}, cluster minus rest)"]
                        + (["labels (cluster minus rest)"] if with_labels else []))
    if len(divergence):
        strength = divergence.assign(a=divergence["value"].abs()).groupby("feature")["a"].max()
        keep = strength.sort_values(ascending=False).index[:top].tolist()
        mat = _matrix(divergence, "feature", "value", keep)
        # A floor of 1 keeps negligible SMDs pale instead of saturating the scale.
        zmax = max(float(np.nanmax(np.abs(mat.to_numpy()))), 1.0 if measure == "smd" else 1e-9)
        fig.add_trace(go.Heatmap(
            z=mat.to_numpy(), x=keep, y=[f"cluster {c}" for c in mat.index],
            colorscale=DIVERGING, reversescale=True, zmid=0 if measure == "smd" else None,
            zmin=-zmax if measure == "smd" else 0, zmax=zmax,
            # Vertical colour bars in the gutter never collide with rotated feature names.
            colorbar={"title": {"text": vtitle, "side": "right"},
                      "x": 0.625 if with_labels else 1.0, "xanchor": "left", "thickness": 10},
            hovertemplate="%{y}<br>%{x}: %{z:.2f}<extra></extra>"), row=1, col=1)
    if with_labels:
        ordered = (label_div.sort_values("label_index", kind="stable")
                   if "label_index" in label_div.columns else label_div)
        labels = list(dict.fromkeys(ordered["label"]))
        mat = _matrix(label_div, "label", "difference", labels)
        fig.add_trace(go.Heatmap(
            z=mat.to_numpy(), x=[str(v) for v in labels], y=[f"cluster {c}" for c in mat.index],
            colorscale="PuOr", zmid=0, zmin=-1, zmax=1,
            colorbar={"title": {"text": "label fraction diff", "side": "right"},
                      "x": 1.0, "xanchor": "left", "thickness": 10},
            hovertemplate="%{y}<br>label %{x}: %{z:+.0%}<extra></extra>"), row=1, col=2)
        fig.update_yaxes(showticklabels=False, row=1, col=2)
        fig.update_xaxes(type="category", row=1, col=2)  # labels "0".."9" are names
    n_clusters = divergence["cluster"].nunique() if len(divergence) else 1
    return finish(fig, "divergence_heatmap", "What separates each cluster from the rest",
                  height=max(340, 200 + 40 * n_clusters), margin={"t": 80, "r": 90})


def label_divergence_bars(label_div: pd.DataFrame, label_shift: pd.DataFrame | None = None
                          ) -> go.Figure:
    """Label mix of each cluster against the rest (grouped bars), JS divergence in titles.

    Parameters
    ----------
    label_div : DataFrame
        ``cluster, label, cluster_fraction, rest_fraction``.
    label_shift : DataFrame, optional
        ``cluster, js_divergence``.
    """
    clusters = sorted(label_div["cluster"].unique()) if len(label_div) else []
    if not clusters:
        return finish(go.Figure(), "label_divergence", "Label distribution per cluster")
    js = ({} if label_shift is None else
          dict(zip(label_shift["cluster"], label_shift["js_divergence"])))
    titles = [f"cluster {c}" + (f" (JS {js[c]:.2f} bits)" if c in js else "") for c in clusters]
    rows, cols = subplot_grid(len(clusters))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, shared_yaxes=True)
    for i, c in enumerate(clusters):
        part = label_div[label_div["cluster"] == c]
        if "label_index" in part.columns:
            part = part.sort_values("label_index")
        pos = {"row": i // cols + 1, "col": i % cols + 1}
        labels = part["label"].astype(str)
        fig.add_trace(go.Bar(x=labels, y=part["cluster_fraction"], name="cluster",
                             marker_color=cluster_color(c), showlegend=False), **pos)
        fig.add_trace(go.Bar(x=labels, y=part["rest_fraction"], name="other clients",
                             marker_color="#BBBBBB", showlegend=i == 0), **pos)
    fig.update_yaxes(title_text="fraction of samples", tickformat=".0%", col=1)
    fig.update_xaxes(type="category")
    return finish(fig, "label_divergence", "Label distribution: cluster vs other clients",
                  barmode="group", height=max(320, 260 * rows))


def pixel_difference_heatmap(pixel_diff: pd.DataFrame) -> go.Figure:
    """Mean image of each cluster minus the rest's (images only), one panel per cluster."""
    clusters = sorted(pixel_diff["cluster"].unique()) if len(pixel_diff) else []
    if not clusters:
        return finish(go.Figure(), "pixel_difference", "Mean image difference (images only)")
    h, w = int(pixel_diff["row"].max()) + 1, int(pixel_diff["col"].max()) + 1
    rows, cols = subplot_grid(len(clusters))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[f"cluster {c}" for c in clusters])
    zmax = float(pixel_diff["difference"].abs().max()) or 1.0
    for i, c in enumerate(clusters):
        part = pixel_diff[pixel_diff["cluster"] == c].sort_values(["row", "col"])
        fig.add_trace(go.Heatmap(z=part["difference"].to_numpy().reshape(h, w),
                                 colorscale=DIVERGING, reversescale=True, zmid=0, zmin=-zmax,
                                 zmax=zmax, showscale=i == 0), row=i // cols + 1,
                      col=i % cols + 1)
        fig.update_yaxes(scaleanchor=f"x{i + 1 if i else ''}", row=i // cols + 1,
                         col=i % cols + 1)
    bare = {"showticklabels": False, "showline": False, "showgrid": False, "ticks": ""}
    fig.update_yaxes(autorange="reversed", **bare)
    fig.update_xaxes(**bare)
    return finish(fig, "pixel_difference", "Mean image: cluster minus other clients",
                  height=60 + 260 * rows, margin={"t": 80})


def explanation_figures(bundle, top: int = 10) -> dict[str, go.Figure]:
    """Every figure of an :class:`~fedcore.explain.ExplanationBundle`, keyed by its stable name.

    Figures without data (pixel map for tabular data, model attributions or prediction
    disagreement when not computed) are left out.
    """
    m = bundle.membership
    figs = [
        shap_bar(m.ranking, top, m.fidelity, m.trustworthy),
        shap_bar(m.source_ranking, top, m.fidelity, m.trustworthy),
        divergence_heatmap(bundle.divergence, bundle.label_divergence, top=max(top, 15)),
        label_divergence_bars(bundle.label_divergence, bundle.label_shift),
    ]
    figs += [shap_beeswarm(m.long_shap(top), cluster=c, fidelity=m.fidelity,
                           trustworthy=m.trustworthy) for c in m.clusters[:1]]
    if len(bundle.pixel_difference):
        figs.append(pixel_difference_heatmap(bundle.pixel_difference))
    table = getattr(bundle, "disagreement", None)
    if table is not None and len(table):
        figs.append(disagreement_heatmap(table))
    if bundle.model_attributions is not None and len(bundle.model_attributions):
        figs.append(cluster_model_attribution_bars(bundle.model_attributions, top))
        if len(bundle.pixel_difference):
            shape = (int(bundle.pixel_difference["row"].max()) + 1,
                     int(bundle.pixel_difference["col"].max()) + 1)
            n_pixels = bundle.model_attributions.groupby("model").size()
            if (n_pixels == shape[0] * shape[1]).all():
                figs.append(cluster_model_attribution_maps(bundle.model_attributions, shape))
    return {fig.layout.meta["name"]: fig for fig in figs}
