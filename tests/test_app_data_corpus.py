"""AppTest: hostile uploads from the corpus are refused in one line and the dataset the user
already had stays loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_support import APP
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow
BAD = Path(__file__).parent / "data" / "bad"
CASES = [  # (file on disk, name the browser sends, fragment of the message)
    ("extra_field_every_row.csv", "extra_field_every_row.csv", "has 4 fields"),
    ("zip_many_members_bomb.zip", "zip_many_members_bomb.zip", "would need about"),
    ("parquet_duplicate_columns.parquet", "parquet_duplicate_columns.parquet",
     "duplicated column name 'x'"),
    ("npz_truncated_member.npz", "npz_truncated_member.npz", "truncated or corrupt"),
    ("leaf_nan_label.json", "leaf_nan_label.json", "label 2 is nan"),
    ("float32_overflow.csv", "bad\nname.csv", "outside the range of 32-bit floats"),
]


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def test_refused_uploads_keep_the_loaded_dataset():
    at = AppTest.from_file(APP, default_timeout=90).run()
    before = at.session_state["fl.dataset_fingerprint"]
    for file, sent_name, fragment in CASES:
        at.file_uploader[0].set_value((sent_name, (BAD / file).read_bytes(), "application/x"))
        at.run()
        if not _errors(at):
            at.button(key="data.upload.load").click().run()
        assert not at.exception, [e.value for e in at.exception]
        messages = _errors(at)
        assert any(fragment in m for m in messages), (file, messages)
        shown = sent_name.replace("\n", "\\n")
        assert any(shown in m for m in messages), (file, messages)
        assert not any("Traceback" in m for m in messages)
        assert at.session_state["fl.dataset_fingerprint"] == before, file
        assert at.session_state["fl.dataset"].n_clients == 4
