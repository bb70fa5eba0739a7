"""``outbound-desk validate`` in a subprocess, on messy generated files."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"rows", "valid", "invalid", "duplicates", "schema_diff", "issues", "sha256_out"}


def _cli(*args: str | Path) -> tuple[int, dict[str, Any] | None, str]:
    done = subprocess.run(
        [sys.executable, "-m", "outbound_desk", "validate", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert "Traceback" not in done.stderr, done.stderr
    out = json.loads(done.stdout) if done.stdout.strip().startswith("{") else None
    return done.returncode, out, done.stderr


def _read(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")  # UTF-8 without BOM
    return list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))


def test_utf16_file_json_contract_and_outputs(schema_file: Path, tmp_path: Path) -> None:
    text = (
        "customerId,firstName,phoneNumber,homePhone,emailAddress\r\n"
        "U1,Zoë,(212) 555-0123,,zoe@example.com\r\n"
        "U2,=cmd,12,,\r\n"
        "U1,Dup,212-555-0199,,\r\n"
        "U3,Ünal,+44 20 7946 0958,416.555.0199,\r\n"
    )
    src = tmp_path / "u16.csv"
    src.write_bytes(text.encode("utf-16"))
    out, rej = tmp_path / "norm.csv", tmp_path / "rej.csv"
    code, report, _ = _cli(
        src,
        "--schema",
        schema_file,
        "--out",
        out,
        "--rejects",
        rej,
        "--duplicates",
        "first",
        "--json",
    )
    assert code == 1
    assert report is not None
    assert report.keys() >= KEYS
    assert set(report["schema_diff"]) >= {"matched", "missing", "extra", "renamed"}
    assert (report["rows"], report["valid"], report["invalid"], report["duplicates"]) == (
        4,
        2,
        2,
        1,
    )
    assert report["issue_counts"] == {"duplicate_id": 1, "phone_too_short": 1}
    assert [i["row"] for i in report["issues"]] == [3, 4]
    rows = _read(out)
    assert rows == [
        ["customerId", "firstName", "phoneNumber", "homePhone", "emailAddress"],
        ["U1", "Zoë", "+12125550123", "", "zoe@example.com"],
        ["U3", "Ünal", "+442079460958", "+14165550199", ""],
    ]
    import hashlib

    assert hashlib.sha256(out.read_bytes()).hexdigest() == report["sha256_out"]
    rejects = _read(rej)
    assert rejects[0][0] == "row"
    assert rejects[0][-1] == "reasons"
    assert rejects[1][:4] == ["3", "U2", "'=cmd", "12"]
    assert "phone_too_short" in rejects[1][-1]
    assert rejects[2][:3] == ["4", "U1", "Dup"]
    assert "duplicate of row 2" in rejects[2][-1]


def test_cp1252_semicolon_all_valid_exits_zero(schema_file: Path, tmp_path: Path) -> None:
    src = tmp_path / "win.csv"
    src.write_bytes(
        (
            "customerId;firstName;phoneNumber;homePhone;emailAddress\r\n"
            "W1;José;212 555 0123;;jose@example.com\r\n"
            "W2;Chloé “Ch”;+1 (604) 555-0100;;\r\n"
        ).encode("cp1252")
    )
    out = tmp_path / "n.csv"
    code, report, _ = _cli(src, "--schema", schema_file, "--out", out, "--json")
    assert code == 0, report
    assert report is not None
    assert report["invalid"] == 0
    assert _read(out)[1:] == [
        ["W1", "José", "+12125550123", "", "jose@example.com"],
        ["W2", "Chloé “Ch”", "+16045550100", "", ""],
    ]


def test_headerless_file_gets_the_list_header(schema_file: Path, tmp_path: Path) -> None:
    src = tmp_path / "nohead.csv"
    src.write_text("H1,Ann,2125550123\nH2,Bob,2125550124\n", encoding="utf-8")
    out = tmp_path / "n.csv"
    code, report, _ = _cli(src, "--schema", schema_file, "--no-header", "--out", out, "--json")
    assert code == 0
    assert report is not None
    assert report["schema_diff"]["has_header"] is False
    rows = _read(out)
    assert rows[0] == ["customerId", "firstName", "phoneNumber", "homePhone", "emailAddress"]
    assert rows[1:] == [
        ["H1", "Ann", "+12125550123", "", ""],
        ["H2", "Bob", "+12125550124", "", ""],
    ]


def test_ragged_rows_go_to_rejects(schema_file: Path, tmp_path: Path) -> None:
    src = tmp_path / "ragged.csv"
    src.write_text(
        "customerId,firstName,phoneNumber,homePhone,emailAddress\n"
        "R1,a,2125550123,,\nR2,b\nR3,c,2125550124,,,x\n",
        encoding="utf-8",
    )
    rej = tmp_path / "r.csv"
    code, report, _ = _cli(src, "--schema", schema_file, "--rejects", rej, "--json")
    assert code == 1
    assert report is not None
    assert (report["valid"], report["invalid"]) == (1, 2)
    rows = _read(rej)
    assert [r[0] for r in rows[1:]] == ["3", "4"]
    assert rows[1][1:3] == ["R2", "b"]


def test_unknown_column_blocks_until_mapped_or_excluded(schema_file: Path, tmp_path: Path) -> None:
    src = tmp_path / "extra.csv"
    src.write_text("customerId,Phone,notes\nA,2125550123,hello\n", encoding="utf-8")
    code, report, _ = _cli(src, "--schema", schema_file, "--json")
    assert code == 1
    assert report is not None
    assert report["schema_diff"]["extra"] == ["notes"]
    assert [r["from"] for r in report["schema_diff"]["renamed"]] == ["Phone"]
    assert {i["code"] for i in report["issues"]} >= {"unknown_column", "missing_required"}
    out = tmp_path / "n.csv"
    code, report, _ = _cli(
        src,
        "--schema",
        schema_file,
        "--map",
        "Phone=phoneNumber",
        "--exclude",
        "notes",
        "--out",
        out,
        "--json",
    )
    assert code == 0, report
    assert _read(out)[1] == ["A", "", "+12125550123", "", ""]


def test_usage_errors_exit_two(schema_file: Path, tmp_path: Path) -> None:
    src = tmp_path / "a.csv"
    src.write_text("customerId,phoneNumber\nA,2125550123\n", encoding="utf-8")
    code, _, err = _cli(src, "--list", "Spring", "--json")
    assert code == 2  # no --sandbox, no --profile, no profile in settings: nothing to connect to
    assert "--profile" in err
    code, _, err = _cli(src, "--schema", tmp_path / "missing.json")
    assert code == 2
    assert "cannot read schema" in err
    code, _, err = _cli(src, "--schema", schema_file, "--region", "XX")
    assert code == 2
    assert "unknown region" in err
    code, _, err = _cli(src, "--schema", schema_file, "--map", "nope=phoneNumber")
    assert code == 2
    assert "'nope' does not exist" in err
    code, _, err = _cli(src)
    assert code == 2


def test_missing_file_is_a_clear_error(schema_file: Path, tmp_path: Path) -> None:
    code, _, err = _cli(tmp_path / "nope.csv", "--schema", schema_file)
    assert code == 1
    assert "nope.csv" in err


def test_list_reads_the_schema_from_the_org(tmp_path: Path) -> None:
    from outbound_desk.emulator import Sandbox

    src = tmp_path / "spring.csv"
    src.write_text(
        "customerId,firstName,lastName,phoneNumber,mobile,email,city,zip\n"
        "A1,Ann,Lee,(212) 555-0123,,ann@example.com,Boston,02134\n"
        "A2,Bo,Kim,12,,bo@example.com,Austin,78701\n",
        encoding="utf-8",
    )
    with Sandbox.start(seed=True) as sb:
        code, out, err = _cli(src, "--list", "Spring Renewals", "--sandbox", sb.base_url, "--json")
        assert code == 1, err  # row A2's phone is rejected
        report = out
        assert report is not None
        assert report["valid"] == 1
        assert report["invalid"] == 1
        assert set(report["schema_diff"]["matched"]) >= {"customerId", "phoneNumber"}
        code, _, err = _cli(src, "--list", "No Such List", "--sandbox", sb.base_url)
        assert code == 2
        assert "no contact list named" in err


def test_validate_leaves_the_nanp_table_in_the_cache_dir_for_the_next_run(
    schema_file: Path, tmp_path: Path
) -> None:
    """The first validation with a big batch of NANP numbers builds the prefix table and
    keeps it in the app's cache directory; the next run answers the same from it."""
    cache = Path(os.environ["OUTBOUND_DESK_CACHE_DIR"])  # the test's own (tests/conftest.py)
    lines = [f"C{i},N{i},{212 + i % 700}-555-{i % 10000:04d},,\n" for i in range(3000)]
    src = tmp_path / "many.csv"
    src.write_text("customerId,firstName,phoneNumber,homePhone,emailAddress\n" + "".join(lines))
    reports = []
    for run in ("first", "second"):
        out = tmp_path / f"{run}.csv"
        _code, report, _ = _cli(src, "--schema", schema_file, "--out", out, "--json")
        assert report is not None
        reports.append({k: report[k] for k in ("rows", "valid", "invalid", "sha256_out")})
        assert list(cache.glob("nanp-table-*.npz")), f"no table in the cache after the {run} run"
    assert reports[0] == reports[1]
    assert reports[0]["rows"] == 3000


def test_validate_takes_its_defaults_from_the_preferences_upload_reads(
    schema_file: Path, tmp_path: Path
) -> None:
    """validate used to default to 'first' and US whatever the preferences said."""
    from outbound_desk.config.settings import Settings, SettingsStore
    from outbound_desk.upload.model import UploadOptions

    src = tmp_path / "dups.csv"
    src.write_text(
        "customerId,firstName,phoneNumber\nU1,A,020 7946 0958\nU1,B,020 7946 0959\n",
        encoding="utf-8",
    )
    settings = Settings()
    settings.preferences.phone_region = "GB"
    settings.preferences.duplicate_policy = "last"
    SettingsStore().save(settings)

    code, report, _ = _cli(src, "--schema", schema_file, "--json")
    assert report is not None
    assert report["duplicate_policy"] == "last"  # what upload would use
    assert (report["valid"], report["invalid"]) == (1, 1)  # GB numbers are valid phones
    assert code == 1

    # Same defaults for a bare UploadOptions (the engine under both front ends).
    assert UploadOptions(file=src, list="x").duplicates == "reject"

    code, report, err = _cli(src, "--schema", schema_file, "--duplicates", "keep_first", "--json")
    assert report is not None
    assert report["duplicate_policy"] == "first"
    assert "deprecated" in err
    assert "--duplicates first" in err


def test_repair_values_fixes_what_is_certain(schema_file: Path, tmp_path: Path) -> None:
    """Issue 14: the app's repairs are the engine's, so the command line has them too."""
    src = tmp_path / "excel.csv"
    src.write_text(
        "customerId,firstName,phoneNumber,homePhone,emailAddress\n"
        "c1, Ann ,14155550123.0,,\n"
        "c2,Bob,1.4155550124E+10,,\n"
        "c3,Cy,4.15555E+10,,\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    code, report, _ = _cli(src, "--schema", schema_file, "--out", out, "--repair-values", "--json")
    assert code == 1  # c3 lost digits: still rejected
    assert report is not None
    assert (report["valid"], report["invalid"]) == (2, 1)
    assert report["repairs"] == {
        "decimal_zero": 1,
        "e164": 2,
        "scientific": 1,
        "scientific_digits_lost": 1,
        "trimmed": 1,
    }
    rows = _read(out)
    assert [r[2] for r in rows[1:]] == ["+14155550123", "+14155550124"]
    code, _, _ = _cli(src, "--schema", schema_file, "--json")
    assert code == 1
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "outbound_desk",
            "validate",
            str(src),
            "--schema",
            str(schema_file),
            "--repair-values",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert "repaired: 1 value trimmed of surrounding spaces" in done.stdout
