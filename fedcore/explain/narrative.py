"""Plain-language stories per cluster, each sentence citing the figure and number it comes from.

A story is meant to be defended to a reviewer: statements only restate numbers that are shown
in a named figure/table (prediction disagreement, label divergence, feature divergence,
membership SHAP), with the surrogate-fidelity caveat first among the surrogate's statements
when the membership explanation is not trustworthy. Effect-size cut-offs follow Cohen (1988):
|SMD| >= 0.5 is reported as a medium effect.

Strong prediction disagreements (a cluster model relabelling >= 50% of the inputs the other
cluster models agree on, e.g. a label swap) are direct observations of the models, not the
output of a surrogate: they come first. Weaker ones (>= 30%) come last.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..dataset import FederatedDataset
from .descriptors import MISSING_SUFFIX, is_image_dataset, sample_features
from .surrogate import MembershipExplanation

#: Stable names of the figures statements cite (also ``fig.layout.meta["name"]``).
FIG_LABELS = "label_divergence"
FIG_FEATURES = "divergence_heatmap"
FIG_MEMBERSHIP = "membership_shap_bar"
FIG_SOURCES = "membership_source_bar"
FIG_DISAGREEMENT = "prediction_disagreement"

MIN_LABEL_DIFFERENCE = 0.10
MIN_SMD = 0.5
#: Prediction-disagreement cells are told from this fraction on, first from STRONG_DISAGREEMENT.
MIN_DISAGREEMENT = 0.30
STRONG_DISAGREEMENT = 0.50
#: ...when the other models said the reference class on at least this many inputs, by a real
#: majority (mean share of the other models voting for it strictly above this).
MIN_DISAGREEMENT_INPUTS = 10
MIN_CONSENSUS = 0.5
NAME_COLUMNS = ("name", "site", "hospital", "station", "region", "country")


@dataclass
class Statement:
    """One sentence and the number behind it.

    Attributes
    ----------
    text : str
    figure_name : str
        Stable name of the figure/table that shows the number.
    value : float
        The number (cluster side), exactly as in the table.
    reference : float or None
        The number it is compared with (rest of the clients), as in the table.
    """

    text: str
    figure_name: str
    value: float
    reference: float | None = None


@dataclass
class ClusterStory:
    """Who is in a cluster and what sets it apart."""

    cluster: int
    members: list[str]
    member_names: list[str]
    headline: str
    statements: list[Statement] = field(default_factory=list)

    def text(self) -> str:
        return "\n".join([self.headline] + [f"- {s.text} [{s.figure_name}]"
                                            for s in self.statements])


def pct(x: float) -> str:
    """Percentages as printed in every statement (0 decimals)."""
    return f"{100 * x:.0f}%"


def num(x: float) -> str:
    """Other numbers as printed in every statement (3 significant digits)."""
    return f"{x:.3g}"


def num_pair(a: float, b: float) -> tuple[str, str]:
    """Two numbers with the fewest significant digits (>= 3) that tell them apart."""
    for digits in range(3, 7):
        fa, fb = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if fa != fb or a == b:
            break
    return fa, fb


def _member_names(ids: list[str], metadata: pd.DataFrame | None) -> list[str]:
    if metadata is None or metadata.empty:
        return list(ids)
    meta = metadata.reindex(ids)
    for col in list(NAME_COLUMNS) + list(meta.columns):
        if (col in meta.columns and not pd.api.types.is_numeric_dtype(meta[col])
                and meta[col].notna().all()):
            return [str(v) for v in meta[col]]
    return list(ids)


def _label_statements(label_div: pd.DataFrame, cluster: int, top: int) -> list[Statement]:
    rows = label_div[(label_div["cluster"] == cluster)
                     & (label_div["difference"].abs() >= MIN_LABEL_DIFFERENCE)].head(top)
    out = []
    for r in rows.itertuples():
        word = "more" if r.difference > 0 else "fewer"
        out.append(Statement(
            f"{word} samples labelled '{r.label}' ({pct(r.cluster_fraction)} vs "
            f"{pct(r.rest_fraction)} in the other clients)", FIG_LABELS,
            float(r.cluster_fraction), float(r.rest_fraction)))
    return out


def binary_features(dataset: FederatedDataset) -> set[str]:
    """Features whose (original-unit) values are all 0/1: reported as percentages."""
    if not dataset.x_train or is_image_dataset(dataset):
        return set()
    pooled = pd.concat([sample_features(dataset, x) for x in dataset.x_train if len(x)])
    values = pooled.to_numpy()
    is_binary = (np.isclose(values, 0) | np.isclose(values, 1)).all(axis=0)
    return {str(c) for c, b in zip(pooled.columns, is_binary) if b}


def _feature_statements(divergence: pd.DataFrame, cluster: int, top: int,
                        binary: set[str]) -> list[Statement]:
    d = divergence[divergence["cluster"] == cluster]
    smd = divergence.attrs.get("measure", "smd") == "smd"
    if smd:
        d = d[d["value"].abs() >= MIN_SMD]
    out = []
    for r in d.nsmallest(top, "rank").itertuples():
        feature = str(r.feature)
        if feature.endswith(MISSING_SUFFIX):
            text = (f"{feature[: -len(MISSING_SUFFIX)]} missing in {pct(r.cluster_mean)} vs "
                    f"{pct(r.rest_mean)} of samples")
        elif feature in binary:
            word = "more" if r.cluster_mean > r.rest_mean else "fewer"
            text = (f"{word} samples with {feature} ({pct(r.cluster_mean)} vs "
                    f"{pct(r.rest_mean)})")
        else:
            word = "higher" if r.cluster_mean > r.rest_mean else "lower"
            effect = f"SMD {r.value:+.2f}" if smd else f"Wasserstein {r.value:.2f} sd"
            inside, rest = num_pair(r.cluster_mean, r.rest_mean)
            text = f"{word} {feature} (mean {inside} vs {rest}; {effect})"
        out.append(Statement(text, FIG_FEATURES, float(r.cluster_mean), float(r.rest_mean)))
    return out


def _membership_statements(membership: MembershipExplanation, cluster: int) -> list[Statement]:
    if membership.warning and not membership.trustworthy:
        # An unfaithful surrogate's top descriptor is not a finding: only the caveat is said.
        value = membership.fidelity if membership.fidelity is not None else float("nan")
        return [Statement(membership.warning, FIG_MEMBERSHIP, value)]
    caveat: list[Statement] = []
    sources = membership.source_ranking
    sources = sources[sources["cluster"] == cluster]
    top = membership.top(cluster, 1)
    if top.empty or sources.empty:
        return caveat
    r, src = top.iloc[0], sources.iloc[0]
    fid = ("" if membership.fidelity is None
           else f"; surrogate fidelity {pct(membership.fidelity)}")
    return caveat + [Statement(
        f"membership is best predicted by the summaries of '{src['source']}' (mean |SHAP| "
        f"{num(src['mean_abs_shap'])} over {int(src['n_descriptors'])} descriptor(s); top "
        f"descriptor '{r['descriptor']}'{fid})", FIG_SOURCES, float(src["mean_abs_shap"]))]


def _disagreement_statements(table: pd.DataFrame, cluster: int, top: int
                             ) -> tuple[list[Statement], list[Statement]]:
    """Cells of :func:`prediction_disagreement` worth telling, a swap's two cells together:
    ``(strong, weak)`` by the first cell of each pair (``STRONG_DISAGREEMENT``)."""
    rows = table[(table["cluster"] == cluster) & (table["fraction"] >= MIN_DISAGREEMENT)
                 & (table["n"] >= MIN_DISAGREEMENT_INPUTS)
                 & (table["consensus_fraction"] > MIN_CONSENSUS)].sort_values("rank")
    if rows.empty:
        return [], []
    others = ("the other cluster's model predicts" if table.attrs.get("n_models") == 2
              else "the other clusters' models predict")
    cells = {(r.reference_index, r.predicted_index): r for r in rows.itertuples()}
    strong, weak, told, pairs = [], [], set(), 0
    for r in rows.itertuples():
        key = (r.reference_index, r.predicted_index)
        if key in told:
            continue
        if pairs >= top:
            break
        pairs += 1
        group = [r]
        out = strong if r.fraction >= STRONG_DISAGREEMENT else weak
        back = cells.get((r.predicted_index, r.reference_index))
        if back is not None:
            group.append(back)
        for i, cell in enumerate(group):
            told.add((cell.reference_index, cell.predicted_index))
            pair = sorted(group, key=lambda g: g.reference_index)
            lead = (f"its model swaps '{pair[0].reference_class}' and "
                    f"'{pair[1].reference_class}': it " if len(group) == 2 and i == 0
                    else "its model ")
            out.append(Statement(
                f"{lead}predicts '{cell.predicted_class}' where {others} "
                f"'{cell.reference_class}' ({pct(cell.fraction)} of {int(cell.n)} such "
                f"inputs)", FIG_DISAGREEMENT, float(cell.fraction)))
    return strong, weak


def summarize_clusters(dataset: FederatedDataset, labels, membership=None, divergence=None,
                       label_div=None, metadata: pd.DataFrame | None = None,
                       top: int = 3, disagreement: pd.DataFrame | None = None
                       ) -> list[ClusterStory]:
    """One :class:`ClusterStory` per cluster (noise ``-1`` excluded).

    Parameters
    ----------
    dataset : FederatedDataset
    labels : array-like of int
    membership : MembershipExplanation, optional
    divergence : DataFrame, optional
        From :func:`cluster_feature_divergence`.
    label_div : DataFrame, optional
        From :func:`label_divergence`.
    metadata : DataFrame, optional
        Per-client metadata (index = client id); default ``dataset.metadata``. A name-like
        column (site, hospital, station...) gives readable member names.
    top : int
        Statements per source (labels, features; disagreement pairs).
    disagreement : DataFrame, optional
        From :func:`~fedcore.explain.disagreement.prediction_disagreement`: cells with
        ``fraction >= MIN_DISAGREEMENT`` become statements, strong ones first.
    """
    labels = np.asarray(labels)
    metadata = dataset.metadata if metadata is None else metadata
    binary = binary_features(dataset) if divergence is not None and len(divergence) else set()
    stories = []
    for c in sorted(int(c) for c in np.unique(labels) if c != -1):
        ids = [cid for cid, lab in zip(dataset.client_ids, labels) if lab == c]
        names = _member_names(ids, metadata)
        shown = " + ".join(names) if len(names) <= 4 else (
            f"{', '.join(names[:3])} and {len(names) - 3} more")
        statements: list[Statement] = []
        strong, weak = ([], []) if disagreement is None or not len(disagreement) else (
            _disagreement_statements(disagreement, c, top))
        statements += strong
        if membership is not None:
            statements += _membership_statements(membership, c)
        if label_div is not None and len(label_div):
            statements += _label_statements(label_div, c, top)
        if divergence is not None and len(divergence):
            statements += _feature_statements(divergence, c, top, binary)
        statements += weak
        n = len(ids)
        headline = f"Cluster {c} = {shown} ({n} client{'s' if n != 1 else ''})"
        if not statements:
            headline += ": no clear difference from the other clients"
        stories.append(ClusterStory(c, ids, names, headline, statements))
    return stories
