"""Turn a clean checkout into the desktop bundle `dist/outbound-desk/`.

    python packaging/build.py [--clean]

Renders the icons from the SVG source, runs PyInstaller on packaging/outbound-desk.spec, copies
the Linux desktop entry and AppStream metadata beside the executable, and reports the bundle's
size with its largest parts so that growth is noticed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist" / "outbound-desk"


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean", action="store_true", help="remove build/ and dist/ first")
    args = parser.parse_args(argv)
    if args.clean:
        shutil.rmtree(ROOT / "build", ignore_errors=True)
        shutil.rmtree(ROOT / "dist", ignore_errors=True)
    subprocess.run([sys.executable, str(ROOT / "packaging" / "render_icons.py")], check=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            str(ROOT / "dist"),
            "--workpath",
            str(ROOT / "build" / "pyinstaller"),
            str(ROOT / "packaging" / "outbound-desk.spec"),
        ],
        check=True,
        cwd=ROOT,
    )
    if sys.platform.startswith("linux"):
        share = DIST / "share"
        (share / "applications").mkdir(parents=True, exist_ok=True)
        (share / "metainfo").mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / "packaging/linux/outbound-desk.desktop", share / "applications")
        shutil.copy2(
            ROOT / "packaging/linux/io.github.outbounddesk.OutboundDesk.metainfo.xml",
            share / "metainfo",
        )
        for png in (ROOT / "packaging" / "build-icons").glob("outbound-desk-*.png"):
            size = png.stem.rsplit("-", 1)[1]
            target = share / "icons/hicolor" / f"{size}x{size}" / "apps"
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(png, target / "outbound-desk.png")
    total = tree_size(DIST)
    print(f"bundle: {DIST} {total / 2**20:.1f} MiB")
    internal = DIST / "_internal"
    parts = sorted(
        ((tree_size(p) if p.is_dir() else p.stat().st_size, p.name) for p in internal.iterdir()),
        reverse=True,
    )
    for size, name in parts[:12]:
        print(f"  {size / 2**20:8.1f} MiB  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
