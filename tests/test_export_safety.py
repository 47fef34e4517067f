"""Exports are safe to open: no spreadsheet formulas, no markup from data text."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from fedcore import store
from fedcore.csv_safe import neutralise_cell, restore_cell, to_csv
from fedcore.export.figures import figure_data_csv, figure_to_bytes
from fedcore.plots.theme import finish

HOSTILE = ["=HYPERLINK(\"http://evil\",\"x\")", "+cmd|' /C calc'!A0", "@SUM(1+1)",
           "-2+3+cmd|' /C calc'!A0", "\tTAB", "\rCR", "'=quoted"]
LINK = '<a href="http://evil.example">click</a>'


@pytest.mark.parametrize("cell", HOSTILE)
def test_formula_cells_are_quoted_and_restored_exactly(cell):
    safe = neutralise_cell(cell)
    assert safe == "'" + cell
    assert restore_cell(safe) == cell


@pytest.mark.parametrize("cell", ["-0.5", "+3", "-1e-3", "1.5", "plain", "", "a=b"])
def test_numbers_and_plain_text_are_untouched(cell):
    assert neutralise_cell(cell) == cell and restore_cell(cell) == cell


def test_to_csv_quotes_text_cells_headers_and_index_but_not_numbers():
    frame = pd.DataFrame({"client": ["=1+1", "ok"], "=x": [-0.5, 2.0]},
                         index=pd.Index(["@a", "b"], name="id"))
    text = to_csv(frame)
    assert "'=1+1" in text and "'=x" in text and "'@a" in text
    assert ",-0.5" in text and "'-0.5" not in text


def test_clients_csv_of_a_run_is_safe_and_reads_back_exactly(tmp_path):
    from test_store import fake_result

    result = fake_result(n_clients=len(HOSTILE))
    result.client_ids = list(HOSTILE)
    result.client_metrics["client"] = list(HOSTILE)
    store.save_run(tmp_path / "run", {"method": "x"}, {"method": "x"}, result)
    import csv

    with open(tmp_path / "run" / "clients.csv", newline="") as fh:
        written = [row["client"] for row in csv.DictReader(fh)]
    assert written == ["'" + name for name in HOSTILE]
    _, _, back = store.load_run(tmp_path / "run")
    assert list(back.client_metrics["client"]) == HOSTILE


def _hostile_figure():
    fig = go.Figure(go.Bar(x=[LINK, "=HYPERLINK(1)"], y=[1, 2], name=LINK,
                           text=[LINK, "b"], hovertext=[LINK, "b"]))
    return finish(fig, "hostile", title=f"<b>Clients</b> {LINK}")


def test_data_text_never_becomes_markup_in_figures():
    fig = _hostile_figure()
    trace = fig.data[0]
    assert "<a" not in str(trace.x) + str(trace.text) + str(trace.hovertext) + trace.name
    assert fig.layout.title.text.startswith("<b>Clients</b> &lt;a href")
    csv = figure_data_csv(fig)
    assert LINK.replace('"', '""') in csv  # the real name in the data ...
    assert "'=HYPERLINK(1)" in csv         # ... and no live formula


def test_svg_export_holds_no_link_from_data():
    try:
        svg = figure_to_bytes(_hostile_figure(), "svg").decode()
    except Exception as exc:  # noqa: BLE001 - no browser for kaleido on this machine
        pytest.skip(f"figure export unavailable: {exc}")
    assert "evil.example" in svg  # the text is drawn ...
    assert "<a " not in svg and "xlink:href=\"http://evil" not in svg  # ... never as a link
