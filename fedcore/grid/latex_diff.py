"""LaTeX for the paired difference to FedAvg and the notes under grid tables."""

from __future__ import annotations

import pandas as pd

from ..export.tables import latex_escape
from .stats import diff_parts, grid_task, summary_frame


def _cell(row) -> str:
    parts = diff_parts(row)
    if parts is None:
        return "--"
    mean, low, high = parts
    return f"${mean}$" + (rf" {{\footnotesize [${low}$, ${high}$]}}" if low else "")


def diff_latex(tidy: pd.DataFrame, data: str) -> str:
    """Booktabs table, methods [K mode] x scenarios: paired difference in final-round mean
    client accuracy (regression: RMSE) to FedAvg (same scenario and seed), mean and 95%
    t-interval."""
    summary = summary_frame(tidy)
    rows = list(dict.fromkeys(summary["variant"]))
    cols = list(dict.fromkeys(summary["scenario"]))
    n = int(summary["diff_n"].max()) if len(summary) else 0
    what = ("RMSE (negative = lower RMSE than FedAvg)" if grid_task(tidy) == "regression"
            else "accuracy")
    caption = (rf"Paired difference in final-round mean client {what} to FedAvg on {data} "
               rf"(same scenario and seed): mean and 95\% Student-$t$ interval over {n} "
               r"seeds. ``K given (oracle)'': the method was told the true number of groups.")
    lines = [r"\begin{table}[t]", r"\centering", rf"\caption{{{caption}}}",
             r"\label{tab:table_diff}", r"\begin{tabular}{l" + "c" * len(cols) + "}",
             r"\toprule", " & ".join(["Method"] + [latex_escape(c) for c in cols]) + r" \\",
             r"\midrule"]
    by_key = {(r["variant"], r["scenario"]): r for _, r in summary.iterrows()}
    for variant in rows:
        cells = [_cell(by_key[(variant, c)]) if (variant, c) in by_key else "--"
                 for c in cols]
        lines.append(" & ".join([latex_escape(variant), *cells]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def with_notes(tex: str, notes: list[str]) -> str:
    """``tex`` with ``notes`` as small text under the tabular, inside the table."""
    if not notes:
        return tex
    body = r" \\ ".join(latex_escape(line.strip()) for line in notes)
    note = r"\par\smallskip{\footnotesize " + body + "}\n"
    return tex.replace(r"\end{table}", note + r"\end{table}", 1)
