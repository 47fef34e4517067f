"""Data page controller: choose a bundled dataset + scenario, or read an upload."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from . import cached, state
from .errors import show_error
from .forms import schema_widgets

UPLOAD_TYPES = ["csv", "tsv", "txt", "parquet", "pq", "zip", "npz", "json", "gz"]
AUTO = "(auto-detect)"


def bundled_controls() -> dict | None:
    """Widgets for a bundled dataset and scenario; returns the source dict when submitted."""
    from fedcore.data import BUNDLED
    from fedcore.partition import SCENARIOS

    names = list(BUNDLED)
    scenarios = list(SCENARIOS)
    cur = state.dataset_source() if state.dataset_source().get("kind") == "bundled" else {}
    cur = cur or state.DEFAULT_SOURCE
    # Outside the form: the inputs below depend on the scenario chosen here.
    c1, c2 = st.columns(2)
    name = c1.selectbox("Bundled dataset", names, index=_index(names, cur["name"]),
                        format_func=lambda n: _bundled_label(BUNDLED, n), key="w.data.name")
    scenario = c2.selectbox("Heterogeneity scenario", scenarios,
                            index=_index(scenarios, cur["scenario"]), key="w.data.scenario",
                            help="How the pooled data is split into clients "
                                 "(natural = the dataset's own client column).")
    natural = scenario == "natural"
    with st.form("bundled_form", enter_to_submit=False):
        n_clients, n_groups, samples = (int(cur["n_clients"]), int(cur["n_groups"]),
                                        int(cur["samples_per_client"]))
        if natural:
            st.caption("Natural scenario: one client per site of the dataset, all its rows; "
                       "true groups come from the dataset when it has them.")
            seed = st.number_input("Data seed (train/test split)", 0, 2**31 - 1,
                                   int(cur["seed"]), key="w.data.seed")
        else:
            c1, c2, c3, c4 = st.columns(4)
            n_clients = c1.number_input("Clients", 2, 1000, n_clients, key="w.data.clients",
                                        help="Number of simulated clients.")
            n_groups = c2.number_input("True groups", 1, 50, n_groups, key="w.data.groups",
                                       help="Clients are split into this many groups that "
                                            "share a distribution (the ground truth for ARI). "
                                            "Ignored by iid.")
            samples = c3.number_input("Samples per client", 2, 100000, samples,
                                      key="w.data.samples")
            seed = c4.number_input("Data seed", 0, 2**31 - 1, int(cur["seed"]),
                                   key="w.data.seed")
        params = {}
        schema = _scenario_schema(SCENARIOS[scenario])
        if schema:
            st.markdown(f"**{scenario} parameters**")
            cols = st.columns(max(len(schema), 2))
            for col, (pname, spec) in zip(cols, schema.items()):
                params.update(schema_widgets({pname: spec}, f"w.data.sc.{scenario}",
                                             container=col))
        if not st.form_submit_button("Load dataset", type="primary"):
            return None
    return {"kind": "bundled", "name": name, "scenario": scenario, "n_clients": int(n_clients),
            "n_groups": int(n_groups), "samples_per_client": int(samples), "seed": int(seed),
            "params": params}


def _scenario_schema(scenario) -> dict:
    return dict(scenario.params)


def _bundled_label(bundled: dict, name: str) -> str:
    """``name [regression] — description``: regression datasets say so in the picker."""
    desc = getattr(bundled[name], "description", "") or ""
    kind = getattr(bundled[name], "kind", "classification")
    tag = f"{name} [regression]" if kind == "regression" else name
    return f"{tag} — {desc[:60]}" if desc else tag


def _index(options: list, value) -> int:
    return options.index(value) if value in options else 0


def load_bundled_source(source: dict) -> bool:
    """Build and select the dataset of ``source``; on error keep the current one."""
    try:
        ds = cached.bundled_dataset(**state.source_args(source))
    except Exception as exc:  # noqa: BLE001 - shown as a banner, the old dataset stays
        show_error(exc, "Could not build the dataset")
        return False
    state.set_dataset(ds, source)
    return True


def upload_controls() -> None:
    """Uploader + column pickers; loads the upload on request, never losing the old dataset."""
    up = st.file_uploader("Upload a federated dataset", type=UPLOAD_TYPES, key="data.upload",
                          help="CSV/Parquet long table with a client column, ZIP of per-client "
                               "CSV files, NPZ (no pickles) or LEAF JSON. "
                               f"Max {cached.MAX_UPLOAD_BYTES // 2**20} MB.")
    if up is None:
        return
    content, filename = up.getvalue(), up.name
    try:
        columns = cached.upload_columns(content, filename)
    except Exception as exc:  # noqa: BLE001
        show_error(exc, f"Could not read {filename}")
        return
    client_col = label_col = None
    if columns:
        c1, c2 = st.columns(2)
        options = [AUTO] + columns
        client_col = c1.selectbox("Client column", options,
                                  index=1 + _guess(columns, ("client", "client_id", "site",
                                                             "hospital", "station", "dataset"),
                                                   default=-1),
                                  key="data.upload.client")
        label_col = c2.selectbox("Label column", options,
                                 index=1 + _guess(columns, ("label", "target", "y", "class",
                                                            "num"), default=-1),
                                 key="data.upload.label")
        client_col = None if client_col == AUTO else client_col
        label_col = None if label_col == AUTO else label_col
    else:
        st.caption("NPZ / LEAF JSON: clients and labels are read from the file itself.")
    task = task_choice(content, filename, client_col, label_col)
    if st.button("Load upload", type="primary", key="data.upload.load"):
        handle_upload(content, filename, client_col, label_col, task=task)


def task_choice(content: bytes, filename: str, client_col, label_col) -> str:
    """The user's choice of task (classification unless ticked), with the label column's
    suggested task and its reason as a caption: a suggestion, never applied silently."""
    regression = st.checkbox("The label is a continuous value (regression)", value=False,
                             key="data.upload.regression",
                             help="Ticked: the label column is read as a number and methods "
                                  "are scored by MAE, RMSE and R². Unticked: each distinct "
                                  "label value is a class.")
    hint = cached.upload_task_hint(content, filename, client_col, label_col)
    if hint is not None:
        task, reason = hint
        chosen = "regression" if regression else "classification"
        advice = ("" if task == chosen else
                  (" — tick the box above if it is" if task == "regression"
                   else " — untick the box above if it is"))
        st.caption(f"Suggestion: the label column looks like **{task}** ({reason}){advice}. "
                   "Your choice decides.")
    return "regression" if regression else "classification"


def _guess(columns: list[str], candidates: tuple[str, ...], default: int = -1) -> int:
    """Index of the first candidate column name (case-insensitive), else ``default``
    (-1 selects "auto-detect" once shifted by the caller)."""
    lower = [c.lower() for c in columns]
    for cand in candidates:
        if cand in lower:
            return lower.index(cand)
    return default


def handle_upload(content: bytes, filename: str, client_column: str | None,
                  label_column: str | None, task: str = "classification") -> bool:
    """Read an upload into the session; a bad file shows ``st.error`` and changes nothing.

    ``task``: how the label column is read (the user's choice; regression needs a finite
    number in every labelled row).

    Returns
    -------
    bool
        Whether the upload became the current dataset.
    """
    if client_column is not None and client_column == label_column:
        st.error("The client column and the label column must differ.")
        return False
    try:
        ds = cached.upload_dataset(content, filename, client_column, label_column, task=task)
    except Exception as exc:  # noqa: BLE001 - shown as a banner, the old dataset stays
        show_error(exc, f"Could not load {filename}")
        return False
    state.set_dataset(ds, {"kind": "upload", "filename": filename, "content": content,
                           "seed": 0, "client_column": client_column,
                           "label_column": label_column, "task": task})
    what = f", regression of {ds.target_name}" if task == "regression" else ""
    st.success(f"Loaded {filename}: {ds.n_clients} clients{what}.")
    return True


def preview(ds) -> None:
    """Clients, sizes, label distribution (a regression target's distribution per client)
    and a per-client feature summary."""
    from fedcore.plots import client_size_bar

    from .figures import show_figure

    regression = getattr(ds, "is_regression", False)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Clients", ds.n_clients)
    c2.metric("Samples (train + test)", int(ds.train_sizes().sum() + ds.test_sizes().sum()))
    c3.metric("Features", ds.n_features)
    if regression:
        c4.metric("Task", "regression", help=f"Continuous target: {ds.target_name}")
    else:
        c4.metric("Classes", ds.n_classes)
    if ds.provenance:
        with st.expander("Provenance (where the data comes from, how it was split)"):
            st.dataframe(provenance_frame(ds.provenance), hide_index=True)
    summary = ds.summary()
    st.dataframe(summary, hide_index=True, height=min(400, 38 + 35 * len(summary)))
    left, right = st.columns(2)
    with left:
        label_figure(ds, show_figure)
    with right:
        color = "true_group" if "true_group" in summary.columns else None
        show_figure(client_size_bar(summary, color=color), "client sizes", summary, key="sizes")
    if len(ds.input_shape) >= 2:
        with st.expander("Example images per group", expanded=True):
            example_images(ds)
    with st.expander("Feature summary per client (original units)"):
        st.dataframe(feature_summary(ds), hide_index=True)


def label_figure(ds, show_figure) -> None:
    """Label mix per client (heatmap) or, for a regression target, its distribution per
    client (train and test boxes)."""
    from fedcore.figure_sources import dataset_target_frame
    from fedcore.plots import label_distribution_heatmap, target_distribution_box

    if getattr(ds, "is_regression", False):
        data = dataset_target_frame(ds)
        show_figure(target_distribution_box(data, label=ds.target_name),
                    "target distribution", data, key="labels")
        return
    counts = ds.label_counts()
    show_figure(label_distribution_heatmap(counts), "label distribution", counts.reset_index(),
                key="labels")


def provenance_frame(provenance: dict) -> pd.DataFrame:
    """``key, value`` rows of a dataset's provenance (nested values as text)."""
    return pd.DataFrame({"key": list(provenance),
                         "value": [str(v) for v in provenance.values()]})


def feature_summary(ds, max_features: int = 30) -> pd.DataFrame:
    """Per-client mean and standard deviation of the first ``max_features`` features in the
    data's ORIGINAL units (the loader's standardisation undone), and how many of the
    client's values were missing (imputed; from the ``<feature>_missing`` indicators)."""
    from fedcore.explain.descriptors import missing_indicator_features, original_units

    indicators = set(missing_indicator_features(ds))
    names = [n for n in ds.feature_names if n not in indicators][:max_features]
    index = {n: j for j, n in enumerate(ds.feature_names)}
    rows = []
    for cid, X in zip(ds.client_ids, ds.x_train):
        X = original_units(ds, np.asarray(X).reshape(len(X), -1)) if len(X) else np.asarray(X)
        row = {"Client": cid, "Samples": int(len(X))}
        if len(X):
            row["Missing values"] = int(sum(np.round(X[:, index[m]]).sum() for m in indicators)
                                        + np.isnan(X).sum())
            for name in names:
                col = X[:, index[name]]
                row[f"{name} mean"] = float(np.nanmean(col))
                row[f"{name} sd"] = float(np.nanstd(col))
        rows.append(row)
    return pd.DataFrame(rows).round(3)


def example_images(ds, per_group: int = 6) -> None:
    """A few training images of each true group (each client when groups are unknown)."""
    shape = tuple(int(v) for v in ds.input_shape[:2])
    groups = (np.asarray(ds.true_groups) if ds.true_groups is not None
              else np.arange(ds.n_clients))
    for g in sorted(set(groups.tolist()))[:8]:
        images, captions = [], []
        for i in np.flatnonzero(groups == g):
            for row in np.asarray(ds.x_train[i])[:max(1, per_group // 2)]:
                if len(images) < per_group:
                    images.append(_to_grey(row, shape))
                    captions.append(str(ds.client_ids[i]))
        label = f"True group {g}" if ds.true_groups is not None else f"Client {g}"
        st.caption(label)
        st.image(images, caption=captions, width=72)


def _to_grey(row: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    img = np.asarray(row, dtype=np.float64).reshape(shape)
    lo, hi = float(img.min()), float(img.max())
    return ((img - lo) / (hi - lo or 1.0) * 255).astype(np.uint8)
