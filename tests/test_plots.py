"""Figure functions: right traces and points, stable names, theme and colours."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import cdist, pdist

import fedcore.plots as plots
from fedcore.clustering import cut_height_for
from fedcore.metrics import assignment_flows, cluster_quality, cluster_sizes
from fedcore.plots.theme import NOISE_COLOR, OKABE_ITO, PALETTE, cluster_colors, figure_name


def tree(n_per=5, seed=0):
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(size=(n_per, 2)), rng.normal(size=(n_per, 2)) + 20])
    Z = linkage(pdist(X), "average")
    labels = fcluster(Z, 2, "maxclust") - 1
    return X, Z, labels, [f"c{i}" for i in range(len(X))]


def test_theme_is_default_and_paper_ready():
    # streamlit sets its own default template when imported by an earlier test module.
    from fedcore.plots.theme import register_theme
    register_theme()
    assert pio.templates.default == "fedlens"
    layout = pio.templates["fedlens"].layout
    assert layout.plot_bgcolor == "white" and layout.paper_bgcolor == "white"
    assert 12 <= layout.font.size <= 14
    assert layout.xaxis.linewidth == 1
    assert list(layout.colorway[:8]) == OKABE_ITO


def test_cluster_colors_stable_and_noise_grey():
    colors = cluster_colors(np.array([3, -1, 0, 3]))
    assert colors == {-1: NOISE_COLOR, 0: PALETTE[0], 3: PALETTE[3]}
    assert cluster_colors([3])[3] == colors[3]
    assert len(set(PALETTE)) == len(PALETTE) == 17


def test_embedding_scatter_traces_points_and_symbols():
    df = pd.DataFrame({"x": np.arange(6.0), "y": np.arange(6.0), "cluster": [0, 0, 1, 1, -1, 1],
                       "true_group": [0, 1, 0, 1, 0, 1], "client": list("abcdef"),
                       "accuracy": np.linspace(0.5, 1, 6)})
    fig = plots.embedding_scatter(df)
    assert isinstance(fig, go.Figure) and figure_name(fig) == "embedding_scatter"
    clusters = [t for t in fig.data if t.legendgroup != "truth"]
    assert [t.name for t in clusters] == ["noise", "cluster 0", "cluster 1"]
    assert sum(len(t.x) for t in clusters) == 6
    assert fig.data[0].marker.color == NOISE_COLOR
    assert list(fig.data[2].marker.symbol) == ["circle", "square", "square"]
    assert "accuracy" in fig.data[1].hovertemplate


def test_dendrogram_has_all_leaves_cluster_colours_and_cut_line():
    _, Z, labels, ids = tree()
    cut = cut_height_for(Z, 2)
    fig = plots.dendrogram_figure(Z, labels, ids, cut_height=cut)
    assert figure_name(fig) == "dendrogram"
    leaves = [t for t in fig.data if t.name == "clients"]
    assert sum(len(t.x) for t in leaves) == 10
    assert {t.marker.color for t in leaves} == {PALETTE[0], PALETTE[1]}
    cut_lines = [t for t in fig.data if t.name == "cut"]
    assert len(cut_lines) == 1 and list(cut_lines[0].y) == [cut, cut]
    assert cut_lines[0].line.dash == "dash"
    link_traces = [t for t in fig.data if t.mode == "lines" and t.name != "cut"]
    n_segments = sum(int(np.isnan(np.asarray(t.x, dtype=float)).sum()) for t in link_traces)
    assert n_segments == 9  # N - 1 merges
    names = {t.name for t in link_traces}
    assert names == {"cluster 0", "cluster 1", "between clusters"}
    no_cut = plots.dendrogram_figure(Z, labels, ids, cut_height=None)
    assert not [t for t in no_cut.data if t.name == "cut"]


def test_similarity_heatmap_ordered_with_boundaries_and_downsampling():
    X, _, labels, ids = tree()
    d = cdist(X, X)
    order = np.argsort(labels, kind="stable")
    fig = plots.similarity_heatmap(d, order, labels, ids)
    z = np.asarray(fig.data[0].z)
    np.testing.assert_allclose(z, d[np.ix_(order, order)])
    assert len(fig.layout.shapes) == 2  # one boundary, vertical + horizontal
    big = np.random.default_rng(0).random((900, 900))
    big_labels = np.repeat([0, 1, 2], 300)
    fig_big = plots.similarity_heatmap(big, np.arange(900), big_labels,
                                       [str(i) for i in range(900)], max_size=300)
    assert np.asarray(fig_big.data[0].z).shape == (300, 300)
    assert "averaged" in fig_big.layout.title.text


def test_quality_table_and_sizes():
    X, _, labels, _ = tree()
    fig = plots.quality_table(cluster_quality(labels, X, labels))
    assert figure_name(fig) == "quality_table"
    cells = fig.data[0].cells.values
    assert "ARI vs truth" in cells[0] and "1.000" in cells[1]
    bar = plots.cluster_size_bar(cluster_sizes(np.array([0, 0, 1, -1])))
    assert list(bar.data[0].y) == [1, 2, 1]


def test_assignment_sankey_nodes_and_links():
    flows = assignment_flows(np.array([[0, 0, 0, 0], [0, 0, 1, 1], [1, 0, 1, 1]]))
    fig = plots.assignment_sankey(flows)
    sankey = fig.data[0]
    assert len(sankey.node.label) == 5  # r0c0, r1c0, r1c1, r2c0, r2c1 (rounds in headers)
    assert sum(sankey.link.value) == 8 and len(sankey.link.source) == len(flows)


def test_data_plots():
    counts = pd.DataFrame([[5, 5], [10, 0], [0, 2]], index=["a", "b", "c"], columns=["0", "1"])
    fig = plots.label_distribution_heatmap(counts)
    np.testing.assert_allclose(np.asarray(fig.data[0].z), [[0.5, 0.5], [1, 0], [0, 1]])
    ordered = plots.label_distribution_heatmap(counts, normalize=False, order=["c", "a", "b"])
    assert np.asarray(ordered.data[0].z)[0].tolist() == [0, 2]
    df = pd.DataFrame({"client": ["a", "b", "c"], "n_train": [10, 20, 5], "cluster": [0, 1, -1]})
    bar = plots.client_size_bar(df)
    assert list(bar.data[0].y) == [10, 20, 5]
    assert list(bar.data[0].marker.color) == [PALETTE[0], PALETTE[1], NOISE_COLOR]


@pytest.fixture
def perf_tables():
    rounds = pd.DataFrame({"method": ["fedavg"] * 3 + ["ifca"] * 3, "round": [1, 2, 3] * 2,
                           "mean_accuracy": [0.5, 0.6, 0.7, 0.55, 0.7, 0.8]})
    table = pd.DataFrame({"method": ["fedavg"] * 4 + ["ifca"] * 4, "client": list("abcd") * 2,
                          "cluster": [0, 0, 0, 0, 0, 0, 1, 1], "accuracy": np.linspace(0.5, 0.9, 8),
                          "loss": 0.1, "true_group": [0, 0, 1, 1] * 2})
    return rounds, table


def test_performance_plots(perf_tables):
    rounds, table = perf_tables
    curves = plots.learning_curves(rounds)
    assert [t.name for t in curves.data] == ["fedavg", "ifca"]
    assert list(curves.data[1].y) == [0.55, 0.7, 0.8]
    assert figure_name(curves) == "learning_curves_mean_accuracy"
    box = plots.accuracy_box_strip(table)
    # One summary box per method (all clients), then the clients as points per cluster,
    # overlaid on the same method column (cluster ids are per method, so no sub-columns).
    summary_box = box.data[0]
    points = [t for t in box.data[1:] if t.type == "box"]
    assert summary_box.boxpoints is False and len(summary_box.y) == 8
    assert len(points) == 2 and sum(len(t.y) for t in points) == 8
    legend = [t.name for t in box.data if t.showlegend is not False]
    assert legend == ["cluster 0", "cluster 1"]  # one visible swatch per cluster
    assert all(t.boxpoints == "all" for t in points)
    assert box.layout.boxmode == "overlay"
    gains = pd.DataFrame({"method": ["ifca"] * 2, "client": ["a", "b"], "gain": [0.1, -0.05],
                          "baseline": "fedavg"})
    gain = plots.gain_plot(gains)
    assert figure_name(gain) == "gain_over_fedavg" and list(gain.data[0].y) == [0.1, -0.05]
    assert any(s.y0 == 0 for s in gain.layout.shapes)
    summary = pd.DataFrame({"method": ["fedavg", "ifca"], "mean_accuracy": [0.7, 0.8],
                            "worst_accuracy": [0.4, 0.6], "p10_accuracy": [0.45, 0.62]})
    worst = plots.worst_client_bar(summary)
    assert [t.name for t in worst.data] == ["worst client", "10th percentile", "mean"]
    assert list(worst.data[0].y) == [0.4, 0.6]


def test_every_registered_figure_has_a_unique_name(perf_tables):
    rounds, table = perf_tables
    X, Z, labels, ids = tree()
    emb = pd.DataFrame({"x": X[:, 0], "y": X[:, 1], "cluster": labels, "client": ids,
                        "true_group": labels})
    made = [plots.embedding_scatter(emb), plots.dendrogram_figure(Z, labels, ids, None),
            plots.similarity_heatmap(cdist(X, X), np.arange(10), labels, ids),
            plots.quality_table({"ari": 1.0}), plots.learning_curves(rounds),
            plots.accuracy_box_strip(table),
            plots.assignment_sankey(assignment_flows(np.array([labels, labels])))]
    for fig in made:  # figures built without per-element validation must still be valid
        checked = go.Figure(fig.to_dict())
        assert len(checked.data) == len(fig.data)
        assert '"meta":{"name"' in fig.to_json().replace(" ", "")
    names = [figure_name(f) for f in made]
    assert len(set(names)) == len(names) and "figure" not in names
    assert set(plots.FIGURES) >= {"embedding_scatter", "dendrogram", "similarity_heatmap",
                                  "learning_curves", "gain_plot", "worst_client_bar"}


def test_client_map_names_axes_explains_symbols_and_never_clips_labels():
    df = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "y": [0.0, 5.0, 1.0, 4.0],
                       "cluster": [0, 0, 1, 1], "true_group": [0, 1, 0, 1],
                       "client": ["Cleveland", "Hungary", "Switzerland", "VA Long Beach"]})
    fig = plots.embedding_scatter(df, x_title="UMAP 1", y_title="UMAP 2")
    assert fig.layout.xaxis.title.text == "UMAP 1" and fig.layout.yaxis.title.text == "UMAP 2"
    keys = [t for t in fig.data if t.legendgroup == "truth"]
    assert [t.name for t in keys] == ["true group 0", "true group 1"]
    assert [t.marker.symbol for t in keys] == ["circle", "square"]
    labelled = [t for t in fig.data if t.mode == "markers+text"]
    assert labelled and all(t.cliponaxis is False for t in labelled)
    x0, x1 = fig.layout.xaxis.range
    y0, y1 = fig.layout.yaxis.range
    assert x0 < 0.0 and x1 > 3.0 and y0 < 0.0 and y1 > 5.0 + 0.1 * 5.0  # room above labels


def test_sankey_labels_are_short_and_rounds_start_at_one():
    flows = assignment_flows(np.array([[0, 0, 1], [0, 1, 1], [1, 1, 1]]))
    flows = flows.assign(round_from=flows["round_from"] + 1, round_to=flows["round_to"] + 1)
    fig = plots.assignment_sankey(flows)
    assert set(fig.data[0].node.label) == {"cluster 0", "cluster 1"}
    assert [a.text for a in fig.layout.annotations] == ["Round 1", "Round 2", "Round 3"]
    assert fig.data[0].textfont.color == "#222222"


def test_identical_curves_stay_distinguishable_and_rounds_are_integers():
    base = pd.DataFrame({"round": [1, 2, 3], "mean_accuracy": [0.5, 0.6, 0.7],
                         "n_clusters": [1, 2, 2]})
    rounds = pd.concat([base.assign(method="ifca (n_clusters=2)"),
                        base.assign(method="ifca (n_clusters=4)"),
                        base.assign(method="fedavg"), base.assign(method="cfl")])
    fig = plots.learning_curves(rounds)
    styles = [(t.line.color, t.line.dash) for t in fig.data]
    assert len(set(styles)) == len(styles) == 4
    assert fig.data[0].line.dash != fig.data[1].line.dash
    assert fig.layout.xaxis.tickformat == "d" and fig.layout.xaxis.dtick == 1
    clusters = plots.learning_curves(rounds, metric="n_clusters")
    assert clusters.layout.yaxis.tickformat == "d" and clusters.layout.yaxis.dtick >= 1


def test_matrix_heatmap_is_named_for_distance_or_similarity():
    D = np.array([[0.0, 1.0], [1.0, 0.0]])
    fig = plots.similarity_heatmap(D, np.arange(2), np.array([0, 1]), ["a", "b"],
                                   value_name="cosine distance")
    assert fig.layout.title.text == "Client distance"
    sim = plots.similarity_heatmap(1 - D, np.arange(2), np.array([0, 1]), ["a", "b"],
                                   value_name="cosine similarity")
    assert sim.layout.title.text == "Client similarity"
