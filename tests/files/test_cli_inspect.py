from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from outbound_desk.cli import main
from tests.files.corpus import cases

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = {
    "path", "size_bytes", "encoding", "bom", "delimiter", "quotechar", "has_header",
    "columns", "rows", "line_ending", "issues", "sha256",
}  # fmt: skip


def test_json_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes("\ufeffid;name\r\n1;Zoë\r\n2\r\n".encode())
    assert main(["inspect", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= CONTRACT
    assert out["encoding"] == "utf-8"
    assert out["bom"] is True
    assert out["delimiter"] == ";"
    assert out["columns"] == ["id", "name"]
    assert out["rows"] == 2
    assert out["line_ending"] == "CRLF"
    assert out["size_bytes"] == path.stat().st_size
    assert [(i["row"], i["code"]) for i in out["issues"]] == [(3, "ragged_row")]
    assert {"row", "column", "code", "message"} <= set(out["issues"][0])


def test_overrides_and_quick(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes("a\tb\n1\t2\n".encode("cp1252"))
    args = ["inspect", str(path), "--json", "--no-header", "--delimiter", "tab", "--quick"]
    assert main([*args, "--encoding", "latin-1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["has_header"] is False
    assert out["encoding"] == "iso8859-1"
    assert out["columns"] == ["column_1", "column_2"]
    assert out["rows"] is None
    assert main([*args, "--encoding", "no-such-codec"]) == 2
    assert "unknown encoding" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["empty.csv", "workbook.xlsx", "truncated_utf16.csv"])
def test_unreadable_files_exit_1_with_one_line(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = next(c for c in cases() if c.name == name)
    path = case.write(tmp_path)
    assert main(["inspect", str(path), "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("outbound-desk: error: ")


def test_missing_file_in_a_subprocess(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "outbound_desk", "inspect", str(tmp_path / "nope.csv")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 1
    assert "no such file" in done.stderr
    assert "Traceback" not in done.stderr


def test_readable_summary_of_the_excel_sample(capsys: pytest.CaptureFixture[str]) -> None:
    sample = ROOT / "resources" / "samples" / "crm_export_excel.csv"
    assert main(["inspect", str(sample)]) == 0
    out = capsys.readouterr().out
    assert "cp1252" in out
    assert "semicolon" in out
    assert "scientific_notation" in out
    assert "lost_leading_zeros" in out
