"""Limits of the readers and the small helpers every reader uses for its messages.

Memory budget
-------------
Reading one upload may take at most :data:`MEMORY_BUDGET` bytes (2 GiB) on top of the
process. Every reader estimates what the expensive step (parsing, decompressing, converting)
would take *before* doing it and refuses the file when the estimate is over budget:

* CSV (also each ZIP member, summed over the archive; also gzip-compressed CSV): about
  :data:`CSV_BYTES_PER_CELL` bytes per cell plus three copies of the text;
* Parquet: from the file's metadata, the number of values of every leaf column (a list
  column counts every element) times their in-memory size;
* NPZ: from each array's header, its elements as float64, three copies;
* LEAF JSON: :data:`JSON_BYTES_PER_VALUE` bytes per number or string in the text;
* after parsing, the encoded feature matrix (one-hot columns included) before it is built.

Text values longer than :data:`MAX_TEXT_VALUE` characters are not category names (a column
holding them is free text or an identifier, dropped with a note), not client ids and not
labels.

This module imports nothing from the rest of the data package (no cycles).
"""

from __future__ import annotations

import unicodedata

from ..errors import DataError

#: Default upper bound of an upload (200 MiB), also the Streamlit default upload size.
DEFAULT_MAX_BYTES = 200 * 2**20
#: Largest total uncompressed size of a ZIP/NPZ archive or a gzip stream.
MAX_UNCOMPRESSED = 500 * 2**20
#: Largest expansion ratio of one ZIP member (or a gzip stream) above ``RATIO_MIN_SIZE``.
MAX_RATIO = 100
RATIO_MIN_SIZE = 2**20
#: Peak memory one upload may take while being read (bytes).
MEMORY_BUDGET = 2 * 2**30
#: Estimated peak bytes per parsed CSV cell (pandas tokeniser + frame + encoding copies;
#: measured ~27 for numbers and ~50 for short text).
CSV_BYTES_PER_CELL = 64
#: Estimated bytes per JSON value once parsed into Python objects and converted.
JSON_BYTES_PER_VALUE = 48
#: Longest text value that may be a category name, a client id or a label.
MAX_TEXT_VALUE = 200


def human_size(n: int | float) -> str:
    """``512 bytes``, ``3.2 KB``, ``200.0 MB``, ``2.0 GB``."""
    if n < 2**10:
        return f"{int(n)} bytes"
    if n < 2**20:
        return f"{n / 2**10:.1f} KB"
    if n < 2**30:
        return f"{n / 2**20:.1f} MB"
    return f"{n / 2**30:.1f} GB"


def one_line(text, limit: int = 300) -> str:
    """Collapse whitespace (parsers put newlines in messages) and cap the length."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def safe_name(name, limit: int = 120) -> str:
    """A file, column or client name as it may appear in a one-line message.

    Control characters (line breaks, tabs, NUL, ...) are shown escaped (``\\n``) so a name
    can never split a message; very long names are shortened.
    """
    text = str(name)
    if any(unicodedata.category(c)[0] == "C" for c in text):
        text = "".join(c if unicodedata.category(c)[0] != "C"
                       else c.encode("unicode_escape").decode("ascii") for c in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_budget(name: str, estimate: float, what: str) -> None:
    """Refuse a file whose reading step would take more than :data:`MEMORY_BUDGET`."""
    if estimate > MEMORY_BUDGET:
        raise DataError(f"file '{safe_name(name)}' would need about {human_size(estimate)} "
                        f"of memory to read ({what}); the reading budget is "
                        f"{human_size(MEMORY_BUDGET)}: upload a smaller file or split it")
