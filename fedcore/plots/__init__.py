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
from fedcore.plots.data_plots import (
    client_size_bar,
    label_distribution_heatmap,
    target_distribution_box,
)
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

from fedcore.plots.registry import FIGURES, Figure  # noqa: E402 - after the theme exists

__all__ = [
    "FIGURES", "Figure", "NOISE_COLOR", "PALETTE", "TEMPLATE_NAME", "cluster_color",
    "cluster_colors",
    "figure_name", "register_theme", "embedding_scatter", "dendrogram_figure",
    "similarity_heatmap", "quality_table", "assignment_sankey", "cluster_size_bar",
    "label_distribution_heatmap", "client_size_bar", "learning_curves", "accuracy_box_strip",
    "gain_plot", "worst_client_bar", "target_distribution_box",
]
