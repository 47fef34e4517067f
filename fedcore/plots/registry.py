"""The figure registry: every plot function by name, and the figure packs it appears in.

Adding a figure: write the plot function (tidy data in, figure out), add one :class:`Figure`
here; to export it in a figure pack, give it a :class:`~fedcore.figure_sources.PackFigure`
(file name, pack, data builder). The Export page's figure pack and ``fedcore report`` build
their figures from these entries (:func:`fedcore.figure_pack.build_pack`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fedcore import figure_sources as src
from fedcore.figure_sources import PackFigure
from fedcore.plots import cluster_plots as cp
from fedcore.plots import data_plots as dp
from fedcore.plots import performance_plots as pp


@dataclass(frozen=True)
class Figure:
    """A registered plot function; calling the entry calls the function.

    Attributes
    ----------
    name : str
    plot : callable
        Tidy data (and keyword options) in, ``plotly.graph_objects.Figure`` out.
    exports : tuple of PackFigure
        The figure packs this figure is exported in, with the data each one plots.
    """

    name: str
    plot: Callable
    exports: tuple[PackFigure, ...] = ()

    def __call__(self, *args, **kwargs):
        return self.plot(*args, **kwargs)


def _figures(*entries: Figure) -> dict[str, Figure]:
    return {e.name: e for e in entries}


FIGURES: dict[str, Figure] = _figures(
    Figure("learning_curves", pp.learning_curves, (
        PackFigure("learning_curves", "session", src.session_rounds),
        PackFigure("learning_curve_accuracy", "run", src.run_rounds,
                   {"metric": "mean_accuracy"}),
        PackFigure("learning_curve_worst", "run", src.run_worst_rounds,
                   {"metric": "worst_accuracy"}))),
    Figure("accuracy_box_strip", pp.accuracy_box_strip, (
        PackFigure("client_accuracy", "session", src.session_clients),
        PackFigure("client_accuracy", "run", src.run_clients, {"color": "cluster"}))),
    Figure("worst_client_bar", pp.worst_client_bar, (
        PackFigure("worst_client_accuracy", "session", src.session_summary),)),
    Figure("label_distribution_heatmap", dp.label_distribution_heatmap, (
        PackFigure("label_distribution", "session", src.label_counts,
                   table=lambda counts: counts.reset_index()),)),
    Figure("assignment_history", cp.assignment_history_heatmap, (
        PackFigure("assignment_history", "run", src.run_assignment_history),)),
    Figure("embedding_scatter", cp.embedding_scatter),
    Figure("dendrogram", cp.dendrogram_figure),
    Figure("similarity_heatmap", cp.similarity_heatmap),
    Figure("quality_table", cp.quality_table),
    Figure("assignment_sankey", cp.assignment_sankey),
    Figure("cluster_size_bar", cp.cluster_size_bar),
    Figure("client_size_bar", dp.client_size_bar),
    Figure("target_distribution_box", dp.target_distribution_box, (
        PackFigure("target_distribution", "session", src.target_values),)),
    Figure("gain_plot", pp.gain_plot),
)
