"""Tables for papers: mean +- std over seeds, LaTeX (booktabs) with the best value in bold.

A method-comparison table has methods as rows and scenarios (or datasets) as columns; each
cell is ``$0.912 \\pm 0.004$`` (mean and sample standard deviation over seeds).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_LATEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}"}


def latex_escape(text) -> str:
    """Escape LaTeX special characters in a label."""
    return "".join(_LATEX_ESCAPES.get(ch, ch) for ch in str(text))


def mean_std_table(tidy: pd.DataFrame, value: str = "mean_client_accuracy",
                   row: str = "method", col: str = "scenario") -> tuple[pd.DataFrame,
                                                                         pd.DataFrame]:
    """(means, stds) pivot tables of ``value`` over repeated rows (seeds).

    ``std`` is the sample standard deviation (ddof=1); NaN with a single seed. Row and column
    order follow first appearance in ``tidy``.
    """
    grouped = tidy.groupby([row, col], sort=False)[value]
    means = grouped.mean().unstack(col)
    stds = grouped.std(ddof=1).unstack(col)
    rows = list(dict.fromkeys(tidy[row]))
    cols = list(dict.fromkeys(tidy[col]))
    return means.reindex(index=rows, columns=cols), stds.reindex(index=rows, columns=cols)


def _cell(mean: float, std: float | None, decimals: int, bold: bool) -> str:
    if mean is None or not np.isfinite(mean):
        return "--"
    body = f"{mean:.{decimals}f}"
    if std is not None and np.isfinite(std):
        body += rf" \pm {std:.{decimals}f}"
    return rf"$\mathbf{{{body}}}$" if bold else f"${body}$"


def latex_table(df: pd.DataFrame, caption: str, label: str, std: pd.DataFrame | None = None,
                decimals: int = 3, higher_is_better: bool | dict = True,
                bold_best: bool = True,
                index_name: str | None = None) -> str:
    """A booktabs ``table`` environment for the numeric table ``df``.

    Parameters
    ----------
    df : DataFrame
        Rows (e.g. methods) x columns (e.g. scenarios) of means.
    caption, label : str
        LaTeX caption (used verbatim, so it may contain math) and ``\\label`` key.
    std : DataFrame, optional
        Same shape as ``df``; cells become ``$mean \\pm std$``.
    decimals : int
    higher_is_better : bool or dict
        Which value is bold in each column (ties after rounding are all bold); a dict
        ``column -> bool`` when the columns differ (RMSE lowest, R² highest).
    bold_best : bool
    index_name : str, optional
        Header of the first column (default: ``df.index.name``).

    Returns
    -------
    str
        Needs ``\\usepackage{booktabs}`` in the preamble.
    """
    values = df.astype(float).round(decimals)
    higher = (higher_is_better if isinstance(higher_is_better, dict)
              else dict.fromkeys(df.columns, bool(higher_is_better)))
    best = {c: values[c].max() if higher.get(c, True) else values[c].min() for c in df.columns}
    head = [latex_escape(index_name or df.index.name or "")]
    head += [latex_escape(c) for c in df.columns]
    lines = [r"\begin{table}[t]", r"\centering", rf"\caption{{{caption}}}",
             rf"\label{{{label}}}", r"\begin{tabular}{l" + "c" * len(df.columns) + "}",
             r"\toprule", " & ".join(head) + r" \\", r"\midrule"]
    for idx in df.index:
        cells = [latex_escape(idx)]
        for c in df.columns:
            mean = values.at[idx, c]
            sd = None if std is None else float(std.at[idx, c])
            bold = bold_best and np.isfinite(mean) and mean == best[c]
            cells.append(_cell(float(mean), sd, decimals, bool(bold)))
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def comparison_latex(tidy: pd.DataFrame, caption: str, label: str,
                     value: str = "mean_client_accuracy", row: str = "method",
                     col: str = "scenario", **kwargs) -> str:
    """Mean +- std over seeds of ``value``, ``row`` x ``col``, as a booktabs table."""
    means, stds = mean_std_table(tidy, value=value, row=row, col=col)
    return latex_table(means, caption, label, std=stds, index_name=row, **kwargs)
