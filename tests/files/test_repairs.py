"""Repairs that keep the rest of a file (issue 15): mixed encodings and mojibake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from outbound_desk.cli import main
from outbound_desk.files import Overrides, scan, sniff
from tests.files.conftest import read_all, run_cli


def mixed_file(path: Path) -> Path:
    """5,000 UTF-8 rows full of accents, and one name pasted in from a cp1252 source."""
    lines = ["id,name,city"] + [f"{i},José {i},Málaga" for i in range(1, 5001)]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    data = data.replace("José 2500,".encode(), b"Ren\xe9e,")  # a lone cp1252 byte
    path.write_bytes(data)
    return path


def test_one_cp1252_byte_never_advises_opening_the_file_as_cp1252(tmp_path: Path) -> None:
    profile = scan(sniff(mixed_file(tmp_path / "m.csv")))
    assert profile.encoding == "utf-8"
    (bad,) = [i for i in profile.issues if i.code == "invalid_bytes"]
    assert bad.row == 2501
    assert "open it with encoding cp1252" not in bad.message
    assert "--repair-encoding" in bad.message
    # What the old advice did: every other accent becomes mojibake.
    as_cp1252 = read_all(sniff(tmp_path / "m.csv", Overrides(encoding="cp1252")))[0]
    assert as_cp1252[0] == ["1", "JosÃ© 1", "MÃ¡laga"]


def test_the_repair_reads_only_the_invalid_bytes_as_cp1252(tmp_path: Path) -> None:
    path = mixed_file(tmp_path / "m.csv")
    profile = scan(sniff(path, Overrides(repair_encoding=True)))
    assert "invalid_bytes" not in profile.issue_counts
    (note,) = [i for i in profile.issues if i.code == "encoding_repaired"]
    assert "1 byte sequence" in note.message
    assert note.offset == path.read_bytes().index(b"\xe9")
    rows, records = read_all(profile)
    assert rows[2499] == ["2500", "Renée", "Málaga"]
    assert records[2499] == 2501
    assert all(r[1].startswith(("José", "Renée")) and r[2] == "Málaga" for r in rows)


def test_cli_repair_encoding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = mixed_file(tmp_path / "m.csv")
    assert main(["inspect", str(path), "--json", "--repair-encoding"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["issue_counts"].get("invalid_bytes") is None
    assert out["issue_counts"]["encoding_repaired"] == 1


def mojibake_file(path: Path) -> Path:
    lines = ["id,name,note"]
    for i in range(1, 301):
        if i % 50 == 0:
            lines.append(f"{i},CafÃ© {i},donâ€™t call")  # UTF-8 read as cp1252, saved again
        else:
            lines.append(f"{i},Café {i},ok")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_mojibake_is_found_and_repaired_with_a_count_of_the_cells(tmp_path: Path) -> None:
    path = mojibake_file(tmp_path / "j.csv")
    found = scan(sniff(path))
    assert found.issue_counts["mojibake"] == 12  # 6 rows, 2 cells each
    first = next(i for i in found.issues if i.code == "mojibake")
    assert (first.row, first.column) == (51, "name")
    assert "'Café 50'" in first.message
    assert read_all(found)[0][49] == ["50", "CafÃ© 50", "donâ€™t call"]  # untouched
    fixed = scan(sniff(path, Overrides(fix_mojibake=True)))
    assert fixed.issue_counts["mojibake_fixed"] == 12
    assert "mojibake" not in fixed.issue_counts
    assert fixed.preview[49] == ["50", "Café 50", "don’t call"]
    rows, _ = read_all(fixed)
    assert rows[49] == ["50", "Café 50", "don’t call"]
    assert rows[0] == ["1", "Café 1", "ok"]  # right text is left alone


def test_cli_fix_mojibake_writes_repaired_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = mojibake_file(tmp_path / "j.csv")
    schema = tmp_path / "s.json"
    schema.write_text(
        json.dumps(
            {
                "name": "m",
                "id_column": "id",
                "fields": [{"name": n, "type": "string"} for n in ("id", "name", "note")],
            }
        )
    )
    out = tmp_path / "out.csv"
    args = ["validate", str(path), "--schema", str(schema), "--out", str(out), "--json"]
    code, stdout, _ = run_cli(*args, "--fix-mojibake")
    assert code == 0
    report = json.loads(stdout)
    assert report["issue_counts"]["mojibake_fixed"] == 12
    assert "50,Café 50,don’t call" in out.read_text(encoding="utf-8").splitlines()


def test_mojibake_in_a_workbook(tmp_path: Path) -> None:
    from tests.files.test_workbook import xlsx

    path = xlsx(tmp_path / "w.xlsx", {"S": [["id", "name"], [1, "MÃ¼ller"], [2, "Müller"]]})
    assert scan(sniff(path)).issue_counts == {"mojibake": 1}
    fixed = sniff(path, Overrides(fix_mojibake=True))
    assert read_all(fixed)[0] == [["1", "Müller"], ["2", "Müller"]]
    assert fixed.preview[0] == ["1", "Müller"]
