"""Read a ZIP archive of per-client CSV files, defensively.

Layout: one CSV (or TSV) file per client; the file name stem is the client id
(``hospital_a.csv`` -> client ``hospital_a``); every file has the same columns, including
the label column. Folders inside the archive are allowed; macOS metadata (``__MACOSX/``,
``._*``) and hidden files are skipped; other non-CSV members are skipped with a note.

Safety (all checked from the central directory *before* any member is decompressed;
members are read into memory, never extracted to disk):

* member names with ``..`` components, absolute paths or drive letters are rejected;
* archives inside the archive (``.zip``, ``.gz``, ``.tar``, ``.7z``, ...) are rejected;
* the declared uncompressed total must stay under ``MAX_UNCOMPRESSED`` (500 MB) and no
  member larger than 1 MB may expand more than ``MAX_RATIO`` (100) times its compressed
  size (zip bombs); reading is also capped at the declared size;
* the memory parsing all members would take (summed) must fit the reading budget
  (:mod:`fedcore.data.limits`); it is estimated member by member, each decompressed, counted
  and released, before any member is parsed.
"""

from __future__ import annotations

import io
import lzma
import re
import zipfile
import zlib
from pathlib import PurePosixPath

import numpy as np
import pandas as pd

from ..errors import DataError
from .limits import (
    MAX_RATIO,
    MAX_UNCOMPRESSED,
    RATIO_MIN_SIZE,
    check_budget,
    one_line,
    safe_name,
)
from .readers_table import estimate_csv_memory, read_csv_bytes

TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
ARCHIVE_SUFFIXES = (".zip", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".7z", ".rar", ".zst",
                    ".npz", ".jar")
#: What a corrupt member can raise while being decompressed.
DECOMPRESSION_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, OSError, EOFError,
                        NotImplementedError, RuntimeError, ValueError)
_DRIVE = re.compile(r"^[A-Za-z]:")


def open_zip(data: bytes, name: str) -> zipfile.ZipFile:
    """Open a ZIP held in memory, turning corrupt archives into a DataError."""
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise DataError(f"file '{name}' is not a valid ZIP archive "
                        f"({one_line(exc)})") from None


def check_members(zf: zipfile.ZipFile, name: str, max_total: int = MAX_UNCOMPRESSED,
                  max_ratio: float = MAX_RATIO) -> list[zipfile.ZipInfo]:
    """Validate every member name and declared size; returns the file members."""
    files, total = [], 0
    for info in zf.infolist():
        member = safe_name(info.filename)
        parts = PurePosixPath(member.replace("\\", "/")).parts
        if member.startswith(("/", "\\")) or _DRIVE.match(member) or ".." in parts:
            raise DataError(f"ZIP '{name}' contains an unsafe path '{member}' (absolute or "
                            "with '..'); it was rejected without extracting anything")
        if info.is_dir():
            continue
        if member.lower().endswith(ARCHIVE_SUFFIXES):
            raise DataError(f"ZIP '{name}' contains another archive '{member}'; nested "
                            "archives are not accepted: put the CSV files directly in one ZIP")
        total += info.file_size
        if total > max_total:
            raise DataError(f"ZIP '{name}' would expand to more than "
                            f"{max_total / 2**20:.0f} MB; rejected as a possible zip bomb")
        if (info.file_size > RATIO_MIN_SIZE
                and info.file_size > max_ratio * max(info.compress_size, 1)):
            raise DataError(f"ZIP '{name}': member '{member}' expands "
                            f"{info.file_size / max(info.compress_size, 1):.0f} times (limit "
                            f"{max_ratio:.0f}); rejected as a possible zip bomb")
        files.append(info)
    return files


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> bytes:
    """Decompress one member in memory, never more than its declared size."""
    try:
        with zf.open(info) as fh:
            data = fh.read(info.file_size + 1)
    except DECOMPRESSION_ERRORS as exc:
        raise DataError(f"ZIP '{name}': member '{safe_name(info.filename)}' cannot be read "
                        f"({one_line(exc)})") from None
    if len(data) > info.file_size:
        raise DataError(f"ZIP '{name}': member '{safe_name(info.filename)}' is larger than "
                        "declared; rejected")
    if data.startswith(b"PK\x03\x04"):
        raise DataError(f"ZIP '{name}' contains another archive '{safe_name(info.filename)}'; "
                        "nested archives are not accepted")
    return data


def _skippable(member: str) -> bool:
    path = PurePosixPath(member)
    return "__MACOSX" in path.parts or path.name.startswith(".")


def read_zip_tables(data: bytes, name: str, max_clients: int):
    """Read every per-client CSV of a ZIP.

    Returns
    -------
    frame : DataFrame
        All rows, files stacked in archive order.
    clients : ndarray of str
        Client id (file stem) of each row.
    row_origin : callable
        ``i -> "file 'a.csv' data row 3"``, to locate rows in messages.
    notes : list of str
    """
    with open_zip(data, name) as zf:
        members = check_members(zf, name)
        notes: list[str] = []
        tables = [m for m in members if not _skippable(m.filename)
                  and m.filename.lower().endswith(TABLE_SUFFIXES)]
        chosen = {id(m) for m in tables}
        skipped = [m.filename for m in members
                   if id(m) not in chosen and not _skippable(m.filename)]
        if skipped:
            notes.append(f"skipped {len(skipped)} non-CSV members "
                         f"({', '.join(safe_name(s) for s in skipped[:3])})")
        if not tables:
            raise DataError(f"ZIP '{name}' holds no CSV files; put one CSV per client in it")
        if len(tables) > max_clients:
            raise DataError(f"ZIP '{name}' has {len(tables):,} client files; the limit is "
                            f"{max_clients:,} (max_clients)")
        check_budget(name, sum(estimate_csv_memory(read_member(zf, info, name))
                               for info in tables), f"parsing {len(tables):,} CSV members")
        frames, ids, origins, seen, member_notes_all = [], [], [], {}, []
        columns: list[str] | None = None
        for info in tables:
            stem = PurePosixPath(info.filename).stem
            if stem in seen:
                raise DataError(f"ZIP '{name}': two files give client id '{safe_name(stem)}' "
                                f"('{safe_name(seen[stem])}' and '{safe_name(info.filename)}'); "
                                "file stems must differ")
            seen[stem] = info.filename
            member_name = f"{name}/{safe_name(info.filename)}"
            frame, member_notes = read_csv_bytes(read_member(zf, info, name), member_name)
            member_notes_all.extend(member_notes)
            cols = list(frame.columns)
            if columns is None:
                columns, first = cols, info.filename
            elif cols != columns:
                missing = [c for c in columns if c not in cols]
                extra = [c for c in cols if c not in columns]
                detail = (f"missing {missing}" if missing else "") + (
                    f"{'; ' if missing else ''}extra {extra}" if extra else "")
                raise DataError(f"ZIP '{name}': file '{safe_name(info.filename)}' has "
                                f"different columns from '{safe_name(first)}' "
                                f"({detail or 'different order'}); every client file needs "
                                "the same columns")
            frames.append(frame)
            ids.append(np.full(len(frame), stem, dtype=object))
            origins.append(info.filename)
    notes.extend(member_notes_all[:3])
    if len(member_notes_all) > 3:  # thousands of files would repeat the same note
        notes.append(f"... and {len(member_notes_all) - 3} similar notes about other files")
    stacked = pd.concat(frames, ignore_index=True)
    starts = np.cumsum([0] + [len(f) for f in frames])

    def row_origin(i: int) -> str:
        block = int(np.searchsorted(starts, i, side="right") - 1)
        return f"file '{safe_name(origins[block])}' data row {i - starts[block] + 1}"

    return stacked, np.concatenate(ids).astype(str), row_origin, notes
