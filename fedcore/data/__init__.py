"""Data layer: read uploads (CSV, Parquet, ZIP of CSVs, NPZ, LEAF JSON) and bundled
datasets into :class:`~fedcore.dataset.FederatedDataset` / :class:`~fedcore.dataset.PooledData`.

Public API
----------
load_upload, read_upload, read_table_columns : uploads (``task=`` classification/regression)
suggest_task : which task a label column looks like, with the reason (a hint only)
BUNDLED, BundledDataset, load_bundled : bundled datasets
resolve_dataset : bundled name or path (+ scenario) -> FederatedDataset
UPLOAD_EXTENSIONS, DEFAULT_MAX_BYTES, DEFAULT_MAX_CLIENTS, MEMORY_BUDGET : limits (see
    :mod:`fedcore.data.limits`)
"""

from .bundled import BUNDLED, DATA_DIR, BundledDataset, load_bundled
from .limits import DEFAULT_MAX_BYTES, MAX_RATIO, MAX_UNCOMPRESSED, MEMORY_BUDGET
from .resolve import resolve_dataset
from .source import UPLOAD_EXTENSIONS
from .targets import TaskSuggestion, suggest_task
from .upload import load_upload, read_table_columns, read_upload
from .validation import DEFAULT_MAX_CLIENTS

__all__ = ["BUNDLED", "DATA_DIR", "BundledDataset", "load_bundled", "resolve_dataset",
           "load_upload", "read_upload", "read_table_columns", "DEFAULT_MAX_BYTES",
           "DEFAULT_MAX_CLIENTS", "MAX_RATIO", "MEMORY_BUDGET", "MAX_UNCOMPRESSED",
           "UPLOAD_EXTENSIONS", "TaskSuggestion", "suggest_task"]
