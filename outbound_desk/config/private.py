"""Files only their user may read: the ledger, the journals and the reports hold contact data.

Directories are created 0700 and files 0600 (as ``settings.json`` already is, through
``mkstemp``), whatever the umask; files and directories made by an older version with the
umask's 0644/0755 are tightened the next time they are opened. On Windows the mode bits do
not govern access (the user's profile directory is private already), so ``chmod`` there only
sets or clears the read-only flag and is left alone.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

__all__ = ["DIR_MODE", "FILE_MODE", "private_dir", "private_file", "tighten"]

DIR_MODE = 0o700
FILE_MODE = 0o600
_POSIX = sys.platform != "win32"


def tighten(path: Path, mode: int = FILE_MODE) -> None:
    """Take group and other permissions off *path* if it exists and is ours (never widen)."""
    if not _POSIX:
        return
    with contextlib.suppress(OSError):
        st = path.stat()
        if st.st_uid == os.getuid() and st.st_mode & 0o077:
            os.chmod(path, (st.st_mode & 0o7777) & mode)


def private_dir(path: Path) -> Path:
    """Make *path* (and missing parents) a directory only its user can enter; return it.

    Missing parents are created with the umask's mode, like ``mkdir -p``; only *path* itself
    is made (or tightened to) 0700.
    """
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    tighten(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create *path* empty with mode 0600 if it does not exist, else tighten it; return it.

    Its directory must exist. SQLite gives the ``-wal`` and ``-shm`` files of a database the
    database file's own mode, so creating the database file this way covers them too; the
    ones an older version left are tightened here as well.
    """
    if _POSIX:
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
        tighten(path)
        for suffix in ("-wal", "-shm", "-journal"):
            tighten(path.with_name(path.name + suffix))
    return path
