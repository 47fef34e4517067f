"""Plot layer: tidy DataFrames in, plotly figures out, one paper-ready theme.

Importing this package registers the ``"fedlens"`` plotly template and makes it the
default. Every figure carries its export name in ``fig.layout.meta["name"]``
(see :func:`figure_name`). Explanation figures live in :mod:`fedcore.plots.explain_plots`.
"""

from fedcore.plots.cluster_plots import (
    assignment_sankey,
    cluster_size_bar,
    dendrogram_figure,
    embedding_scatter,
    quality_table,
    similarity_heatmap,
)
from fedcore.plots.data_plots import client_size_bar, label_distribution_heatmap
from fedcore.plots.performance_plots import (
    accuracy_box_strip,
    gain_plot,
    learning_curves,
    worst_client_bar,
)
from fedcore.plots.theme import (
    NOISE_COLOR,
    PALETTE,
    TEMPLATE_NAME,
    cluster_color,
    cluster_colors,
    figure_name,
    register_theme,
)

register_theme(set_default=True)

FIGURES = {
    "embedding_scatter": embedding_scatter,
    "dendrogram": dendrogram_figure,
    "similarity_heatmap": similarity_heatmap,
    "quality_table": quality_table,
    "assignment_sankey": assignment_sankey,
    "cluster_size_bar": cluster_size_bar,
    "label_distribution_heatmap": label_distribution_heatmap,
    "client_size_bar": client_size_bar,
    "learning_curves": learning_curves,
    "accuracy_box_strip": accuracy_box_strip,
    "gain_plot": gain_plot,
    "worst_client_bar": worst_client_bar,
}

__all__ = [
    "FIGURES", "NOISE_COLOR", "PALETTE", "TEMPLATE_NAME", "cluster_color", "cluster_colors",
    "figure_name", "register_theme", "embedding_scatter", "dendrogram_figure",
    "similarity_heatmap", "quality_table", "assignment_sankey", "cluster_size_bar",
    "label_distribution_heatmap", "client_size_bar", "learning_curves", "accuracy_box_strip",
    "gain_plot", "worst_client_bar",
]
