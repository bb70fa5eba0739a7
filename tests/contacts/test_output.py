from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from outbound_desk.contacts.output import CsvSink, csv_bytes
from outbound_desk.files.writer import LINE_TERMINATOR

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda w: st.lists(st.lists(_text, min_size=w, max_size=w), min_size=1, max_size=6)
    )
)
def test_csv_bytes_equal_csv_writer(rows: list[list[str]]) -> None:
    frame = pd.DataFrame(rows, columns=[f"c{i}" for i in range(len(rows[0]))])
    buf = io.StringIO()
    csv.writer(buf, lineterminator=LINE_TERMINATOR).writerows(rows)
    assert csv_bytes(frame) == buf.getvalue().encode("utf-8")


def test_sink_renames_into_place_and_hashes(tmp_path: Path) -> None:
    import hashlib

    target = tmp_path / "n.csv"
    sink = CsvSink(target, ["a", "b"])
    sink.write_frame(pd.DataFrame({"a": ["1", ""], "b": ["x,y", "z"]}))
    assert not target.exists()
    digest = sink.close()
    assert target.read_bytes() == b'a,b\r\n1,"x,y"\r\n,z\r\n'
    assert digest == hashlib.sha256(target.read_bytes()).hexdigest()
    sink2 = CsvSink(tmp_path / "m.csv", ["a"])
    sink2.abort()
    assert list(tmp_path.iterdir()) == [target]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(_text, min_size=2, max_size=2), min_size=2, max_size=8))
def test_csv_bytes_of_a_slice_equal_csv_writer(rows: list[list[str]]) -> None:
    """Arrow-backed columns that start inside their buffers (a slice of a bigger chunk, as the
    reader hands them out) are written from the right bytes."""
    frame = pd.DataFrame(rows, columns=["a", "b"]).astype("str").iloc[1:]
    buf = io.StringIO()
    csv.writer(buf, lineterminator=LINE_TERMINATOR).writerows(rows[1:])
    assert csv_bytes(frame) == buf.getvalue().encode("utf-8")


_key = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=4)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(_key, min_size=1, max_size=5, unique=True).flatmap(
        lambda keys: st.tuples(
            st.just(keys),
            st.lists(
                st.lists(_text, min_size=len(keys), max_size=len(keys)), min_size=1, max_size=6
            ),
        )
    )
)
def test_json_objects_equal_the_payload_hashs_canonical_json(
    keys_rows: tuple[list[str], list[list[str]]],
) -> None:
    """Byte for byte ``json.dumps(sort_keys, compact, ensure_ascii=False)`` of each row's dict:
    quotes, backslashes and control characters escaped, any order of the columns, also
    through a slice of a bigger frame and with Arrow-backed columns."""
    import json

    from outbound_desk.contacts.output import json_objects

    keys, rows = keys_rows
    frame = pd.DataFrame(rows, columns=keys, dtype=object)
    want = [
        json.dumps(
            dict(zip(keys, r, strict=True)),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        for r in rows
    ]
    assert json_objects(frame).to_pylist() == want
    assert json_objects(frame.astype("string[pyarrow]").iloc[1:]).to_pylist() == want[1:]


def test_arrow_json_objects_of_absent_columns_hold_empty_strings() -> None:
    import json

    import pyarrow as pa

    from outbound_desk.contacts.output import arrow_json_objects, utf8_values

    got = arrow_json_objects(["b", "a", "c"], [None, pa.array(['x"'], pa.large_string()), None], 1)
    assert got.to_pylist() == [
        json.dumps({"a": 'x"', "b": "", "c": ""}, sort_keys=True, separators=(",", ":"))
    ]
    assert arrow_json_objects(["a"], [None], 2).to_pylist() == ['{"a":""}'] * 2
    assert list(utf8_values(pa.array(["é", "", "z"], pa.large_string()).slice(1))) == [b"", b"z"]
