"""Whether a file is still the one that was read: size, times, inode, device.

A file edited, truncated or replaced while it is validated or uploaded must not pass for the
file that was checked: the rows read after the change are not the rows that were checked (and
checksummed). :meth:`FileIdentity.of` takes the file's identity before it is read;
:meth:`FileIdentity.check` raises :class:`FileChangedError` when the file is no longer that.

Any write or truncation moves the modification time, and setting it back by hand (``touch
-d``) moves the status-change time, which no program can set; a replacement (an editor's save
by rename) changes the inode. A change within the file system's timestamp tick that keeps the
size is the one thing a stat cannot see, so an upload also compares the SHA-256 of the bytes
it streamed with the one of the bytes it checked (``files.scan``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

from outbound_desk.files.model import FileError

__all__ = ["FileChangedError", "FileIdentity"]


class FileChangedError(FileError):
    """The file changed (or went away) while it was being read; ``str(e)`` says how."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="file_changed")


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """What a file was when it was opened: ``os.stat`` fields that change with its content."""

    path: str
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    device: int

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> FileIdentity:
        """The identity of *path* now (``OSError`` when it cannot be read)."""
        st = os.stat(path)
        return cls(
            os.fspath(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev
        )

    def same_as(self, other: FileIdentity | None) -> bool:
        """Whether *other* is this identity, taken of the same file at another time."""
        return other is not None and (
            self.size,
            self.mtime_ns,
            self.ctime_ns,
            self.inode,
            self.device,
        ) == (other.size, other.mtime_ns, other.ctime_ns, other.inode, other.device)

    def difference(self) -> str | None:
        """How the file differs from this identity now, or None when it does not."""
        try:
            now = FileIdentity.of(self.path)
        except OSError as exc:
            return f"it can no longer be read: {exc.strerror or exc}"
        if (now.inode, now.device) != (self.inode, self.device):
            return "it was replaced by another file"
        if now.size != self.size:
            return f"its size went from {self.size:,} to {now.size:,} bytes"
        if now.mtime_ns != self.mtime_ns:
            return f"it was modified at {_local(now.mtime_ns)}"
        if now.ctime_ns != self.ctime_ns:
            return f"it was written to at {_local(now.ctime_ns)}"
        return None

    def check(self, doing: str, consequence: str) -> None:
        """Raise :class:`FileChangedError` if the file changed: "*path* changed while it was
        being *doing* (how); *consequence*"."""
        how = self.difference()
        if how is not None:
            raise FileChangedError(
                f"{self.path} changed while it was being {doing} ({how}); {consequence}"
            )


def _local(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9).astimezone().strftime("%Y-%m-%d %H:%M:%S")
