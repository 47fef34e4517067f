"""Explain page controller: explain the clustering chosen on the Clusters page."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import streamlit as st

from . import state
from .figures import show_figure

TABS = {"summary": "Summary", "membership": "Membership (SHAP)", "divergence": "Divergence",
        "disagreement": "Prediction disagreement", "models": "Cluster models"}
#: The tab showing each figure a statement cites (fedcore.explain.narrative's names).
FIGURE_TABS = {"membership_shap_bar": "membership", "membership_source_bar": "membership",
               "divergence_heatmap": "divergence", "label_divergence": "divergence",
               "prediction_disagreement": "disagreement"}


def target(results: dict) -> tuple[str, object, np.ndarray, str] | None:
    """``(result key, result, labels, description)`` to explain, or None without results.

    The Clusters page's current choice when there is one, else the last run's own clusters.
    A re-clustering identical to the run's own clusters (numbered differently or not) is
    explained as the own clusters: the cluster models apply to it.
    """
    from fedcore.metrics import same_partition

    from .cluster_view import describe_selection

    sel = state.selection()
    if sel.get("result") in results and sel.get("labels") is not None:
        key = sel["result"]
        result, labels = results[key], np.asarray(sel["labels"])
        desc = describe_selection(sel, state.names()[key])
        if sel.get("view") != "own" and same_partition(labels, result.assignments):
            desc += " — the same partition as the method's own clusters"
        return key, result, labels, desc + " (chosen on the Clusters page)"
    if not results:
        return None
    key = list(results)[-1]
    return (key, results[key], np.asarray(results[key].assignments),
            f"{state.names()[key]}: the method's own clusters")


def data_note(result, dataset) -> str | None:
    """Why ``dataset`` cannot explain ``result`` (other clients: e.g. an imported run without
    client data), or None when it can."""
    if dataset is None or list(dataset.client_ids) != list(result.client_ids):
        from fedcore.interop import is_imported
        if is_imported(result):
            return ("This imported run has no client data, so the data-based explanations "
                    "(membership SHAP, divergence, label shift) cannot be computed: include "
                    "`client_data` in the exchange record. Its cluster-model explanations "
                    "need the cluster models, which an imported run does not have.")
        return "The loaded dataset's clients are not this run's clients: load its dataset."
    return None


def _no_model_note(bundle) -> str | None:
    from fedcore.interop import NO_MODEL_NOTE
    return NO_MODEL_NOTE if NO_MODEL_NOTE in bundle.errors else None


def explain(key: str, result, labels: np.ndarray, dataset, attributions: bool):
    """:func:`fedcore.explain.explain_all`, memoised per (result, labels, options)."""
    from fedcore.explain import explain_all

    digest = hashlib.sha1(np.asarray(labels, dtype=np.int64).tobytes()).hexdigest()[:12]

    def build():
        with st.spinner("Explaining the clusters (surrogate + SHAP)…"):
            return explain_all(dataset, result, labels=labels, seed=0,
                               model_attributions=attributions)

    return state.artefact((key, "explain", digest, bool(attributions)), build)


def show_membership(bundle) -> None:
    from fedcore.plots.explain_plots import shap_bar, shap_beeswarm

    m = bundle.membership
    c1, c2, c3 = st.columns(3)
    c1.metric("Surrogate fidelity", "—" if m.fidelity is None else f"{m.fidelity:.0%}",
              help="Cross-validated balanced accuracy of the surrogate reproducing the "
                   "clustering from client descriptors.")
    c2.metric("Clusters explained", len(m.clusters))
    c3.metric("Descriptors", bundle.descriptors.shape[1])
    if m.warning:
        st.caption("The surrogate's fidelity caveat (top of the page) applies to these "
                   "figures.")
    if len(m.ranking):
        show_figure(shap_bar(m.ranking, fidelity=m.fidelity, trustworthy=m.trustworthy),
                    "membership shap bar", m.ranking, key="shap_bar")
        long = m.long_shap()
        if len(long):
            clusters = [int(c) for c in m.clusters]
            cluster = st.selectbox("Cluster shown per client", clusters, key="explain.cluster",
                                   format_func=lambda c: f"cluster {c}",
                                   help="Whose membership the per-client SHAP plot explains.")
            show_figure(shap_beeswarm(long, cluster=cluster, fidelity=m.fidelity,
                                      trustworthy=m.trustworthy),
                        "membership shap beeswarm", long, key="shap_beeswarm")


def show_divergence(bundle) -> None:
    from fedcore.plots.explain_plots import divergence_heatmap, label_divergence_bars

    if len(bundle.divergence):
        show_figure(divergence_heatmap(bundle.divergence, bundle.label_divergence),
                    "divergence heatmap", bundle.divergence, key="divergence")
    from fedcore.explain.bundle import REGRESSION_NOTE
    if REGRESSION_NOTE in bundle.errors:
        st.caption(f"No label divergence: {REGRESSION_NOTE}.")
    if len(bundle.label_divergence):
        show_figure(label_divergence_bars(bundle.label_divergence, bundle.label_shift),
                    "label divergence", bundle.label_divergence, key="label_div")
    if len(bundle.pixel_difference):
        from fedcore.plots.explain_plots import pixel_difference_heatmap
        show_figure(pixel_difference_heatmap(bundle.pixel_difference), "pixel difference",
                    bundle.pixel_difference, key="pixels")


def show_models(bundle, requested: bool) -> None:
    from fedcore.plots.explain_plots import cluster_model_attribution_bars

    if bundle.model_attributions is None or not len(bundle.model_attributions):
        if _no_model_note(bundle):
            st.info(_no_model_note(bundle).capitalize() + ".")
        elif not requested:
            st.info("No cluster-model attributions yet: tick \"Also explain each cluster "
                    "model\" above (slower).")
        else:
            reasons = [e for e in bundle.errors if "attribution" in e]
            st.info(reasons[0] if reasons else
                    "No cluster-model attributions: these clusters have no trained models "
                    "of their own (the models were trained for the method's own clusters).")
        return
    show_figure(cluster_model_attribution_bars(bundle.model_attributions),
                "cluster model attribution", bundle.model_attributions, key="model_attr")


def show_disagreement(bundle) -> None:
    """Where cluster models predict differently on the same inputs (concept shift, label swap)."""
    from fedcore.plots.explain_plots import disagreement_heatmap

    table = bundle.disagreement
    if table is None or not len(table):
        note = getattr(table, "attrs", {}).get("note") if table is not None else None
        note = note or _no_model_note(bundle)
        st.info(note or "No prediction disagreement: it compares the run's own cluster models "
                        "(at least 2) on the same held-out inputs.")
        return
    st.caption("For each cluster: the class the OTHER clusters' models agree on (rows) vs what "
               "this cluster's model predicts (columns), on the same held-out inputs. Strong "
               "off-diagonal cells reveal swapped or shifted labels.")
    show_figure(disagreement_heatmap(table), "prediction disagreement", table,
                key="disagreement")


def fidelity_warning(bundle) -> None:
    """The surrogate-fidelity caveat, once per page (stories and SHAP tabs refer to it)."""
    warning = bundle.membership.warning
    if warning:
        st.warning(warning, icon=":material/warning:")


def show_stories(bundle) -> None:
    """Each cluster's story: a one-line "why" first, then the evidence, each statement
    linked to the tab showing its figure."""
    caveat = bundle.membership.warning
    for story in bundle.stories:
        statements = [s for s in story.statements if s.text != caveat]
        st.markdown(f"**{story.headline}**")
        if not statements:
            st.markdown("*Why:* nothing stands out against the other clients.")
            continue
        st.markdown(f"*Why:* {_sentence(statements[0].text)} {_cite(statements[0])}")
        rest = statements[1:]
        if rest:
            st.markdown("\n".join(f"- {s.text} {_cite(s)}" for s in rest))
    _tab_links()


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _cite(statement) -> str:
    tab = FIGURE_TABS.get(statement.figure_name)
    label = statement.figure_name.replace("_", " ")
    return f"[[{label}]](#tab-{tab})" if tab else f"*[{label}]*"


def _tab_links() -> None:
    """Make ``#tab-<name>`` links open the Explain tab of that name (tabs have no URL)."""
    st.html(_TAB_LINKS_JS.replace("__NAMES__", json.dumps(TABS)),
            unsafe_allow_javascript=True)


_TAB_LINKS_JS = """<script>(function () {
  if (window.__fedlensTabLinks) return; window.__fedlensTabLinks = true;
  const names = __NAMES__;
  document.addEventListener('click', function (e) {
    const a = e.target.closest && e.target.closest('a[href^="#tab-"]');
    if (!a) return;
    const want = names[a.getAttribute('href').slice(5)];
    const tab = [...document.querySelectorAll('button[role="tab"]')]
      .find(b => b.innerText.trim() === want);
    if (tab) { e.preventDefault(); tab.click(); tab.scrollIntoView({block: 'start'}); }
  }, true);
})();</script>"""
