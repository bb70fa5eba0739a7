"""The parsed chunks of one read of a file, kept so that a second look needs no second read.

The preview reads a file once (``ScanPass``: its table and its scan); the validation that
follows (its duplicate pre-pass, then its main pass) takes the same chunks from a
:class:`ChunkCache` instead of reading the file again (issue 13). A validation with policy
``last`` or ``reject`` keeps its pre-pass's chunks the same way for its main pass.

What is kept is the reader's own output: Arrow string tables (whose buffers the preview's
table shares: they are counted once in memory, and Arrow memory is not tracked by Python's
garbage collector), the record numbers, the issues and the broken records of each chunk.

A consumer gets exactly the chunks ``iter_chunks`` would give it, or the file is read:

- the cache is keyed by everything the chunking depends on (the profile's detection and
  overrides, the chunk size) and by the file's identity before the read; a consumer with
  another key, or a file that changed (``FileIdentity``), reads the file itself;
- a file bigger than the budget (``CHUNK_CACHE_BYTES``, or chunks that grow past it), one with
  more than ``CHUNK_CACHE_OBJECTS`` issues and broken records, and a read whose issues went
  past ``ISSUES_KEPT_PER_CODE`` of one code (the scan counts those without building them)
  keep nothing: their consumers read the file, from where the cache
  stopped (the reader's chunking is deterministic, so the chunks already given are skipped);
- a consumer that starts while the cache fills waits for each next chunk (cancellable).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Final

from outbound_desk.base.cancel import Progress
from outbound_desk.files.identity import FileIdentity
from outbound_desk.files.model import Cancelled, FileProfile, RecordChunk

__all__ = ["CHUNK_CACHE_BYTES", "CHUNK_CACHE_OBJECTS", "ChunkCache"]

#: Most memory a cache holds (Arrow's ``nbytes`` of its tables and record numbers). Files
#: bigger than this are not kept, and are read again by whoever needs their rows again.
CHUNK_CACHE_BYTES: Final = 384 << 20
#: Most issues and broken records (Python objects, which the garbage collector walks and
#: Arrow's count does not see) a cache holds; a file with more is read again.
CHUNK_CACHE_OBJECTS: Final = 20_000

_FILLING, _COMPLETE, _DROPPED = "filling", "complete", "dropped"
# How often a consumer waiting for the next chunk checks whether it is cancelled (seconds).
_POLL_S = 0.05


def read_key(profile: FileProfile, chunk_rows: int) -> tuple[object, ...]:
    """Everything the reader's chunks of *profile* depend on, besides the bytes."""
    from outbound_desk.files.reader import block_bytes_for

    return (
        profile.path,
        profile.size_bytes,
        profile.encoding,
        profile.bom,
        repr(profile.dialect),
        profile.has_header,
        tuple(profile.columns),
        profile.stray_quotes,
        repr(profile.overrides),
        repr(profile.workbook),
        chunk_rows,
        block_bytes_for(profile, chunk_rows),
    )


class ChunkCache:
    """The chunks of one read of *profile*'s file in chunks of *chunk_rows* (see the module),
    holding at most *budget* bytes (default ``CHUNK_CACHE_BYTES``).

    One reader fills it (:meth:`begin`, :meth:`keep` per chunk, :meth:`finish`, or
    :meth:`drop`); any number of consumers call :meth:`chunks`, from any thread.
    """

    def __init__(self, profile: FileProfile, *, chunk_rows: int, budget: int | None = None) -> None:
        self.key = read_key(profile, chunk_rows)
        self.path = profile.path
        self.chunk_rows = chunk_rows
        self.budget = budget = CHUNK_CACHE_BYTES if budget is None else budget
        self.identity: FileIdentity | None = None
        self.nbytes = 0
        self.objects = 0  # issues and broken records kept
        #: Why the cache keeps nothing (None while it fills or once complete).
        self.dropped: str | None = None
        self._chunks: list[tuple[RecordChunk, int, int]] = []  # chunk, bytes read, of total
        self._state = _FILLING
        self._cond = threading.Condition()
        if profile.size_bytes > budget:
            self.drop(f"the file is bigger than the cache's {budget:,} bytes")

    # ------------------------------------------------------------------ the reader's side
    def begin(self, identity: FileIdentity | None) -> None:
        """The read starts: *identity* is the file's, taken before it (None: unknown)."""
        self.identity = identity
        if identity is None:
            self.drop("the file's identity is unknown")

    def keep(self, chunk: RecordChunk, done: int, total: int) -> None:
        """Keep *chunk* (read when *done* of *total* bytes were), or drop everything when it
        does not fit the budget."""
        size = int(chunk.table.nbytes) + int(chunk.records.nbytes)
        objects = len(chunk.issues) + len(chunk.raw)
        with self._cond:
            if self._state != _FILLING:
                return
            if self.nbytes + size > self.budget:
                self._drop(f"the file's rows take more than the cache's {self.budget:,} bytes")
                return
            if self.objects + objects > CHUNK_CACHE_OBJECTS:
                self._drop(f"the file has more than {CHUNK_CACHE_OBJECTS:,} issues and broken rows")
                return
            self.nbytes += size
            self.objects += objects
            # A copy without the pandas frame the reader's caller may have made of it.
            kept = RecordChunk(chunk.table, chunk.records, chunk.issues, chunk.raw)
            self._chunks.append((kept, done, total))
            self._cond.notify_all()

    def finish(self) -> None:
        """The read reached the end of the file: the cache is complete, unless the file
        changed meanwhile (then it keeps nothing)."""
        changed = self.identity.difference() if self.identity is not None else "unknown"
        with self._cond:
            if self._state != _FILLING:
                return
            if changed is not None:
                self._drop(f"the file changed while it was read ({changed})")
                return
            self._state = _COMPLETE
            self._cond.notify_all()

    def drop(self, why: str) -> None:
        """Keep nothing from now on (the read stopped, the file is no longer shown...);
        consumers read the file from where they are."""
        with self._cond:
            self._drop(why)

    def _drop(self, why: str) -> None:
        if self._state == _DROPPED:
            return
        self._state = _DROPPED
        self.dropped = why
        self._chunks = []
        self.nbytes = self.objects = 0
        self._cond.notify_all()

    # ------------------------------------------------------------------ the consumers' side
    @property
    def complete(self) -> bool:
        return self._state == _COMPLETE

    def usable(self, profile: FileProfile, chunk_rows: int) -> bool:
        """Whether this cache holds (or is filling with, or will be) *profile*'s chunks of
        *chunk_rows*: the same detection and overrides, and the file unchanged since the
        cache's read began. A read that has not begun yet is waited for (:meth:`chunks`); a
        file that changes while it is read is dropped by :meth:`finish`."""
        if self._state == _DROPPED or read_key(profile, chunk_rows) != self.key:
            return False
        if self.identity is None:
            return True  # not begun (begin(None) drops the cache)
        try:
            now = FileIdentity.of(self.path)
        except OSError:
            return False
        return self.identity.same_as(now)

    def _next(
        self, index: int, cancelled: Callable[[], bool] | None
    ) -> tuple[RecordChunk, int, int] | bool:
        """Chunk *index* (with the bytes read, of the total, when it was read), waiting for it
        while the cache fills; else True when there are no more chunks, False when the cache
        stopped keeping them."""
        with self._cond:
            while True:
                if index < len(self._chunks):
                    return self._chunks[index]
                if self._state == _COMPLETE:
                    return True
                if self._state == _DROPPED:
                    return False
                if cancelled is not None and cancelled():
                    raise Cancelled
                self._cond.wait(_POLL_S)

    def chunks(
        self,
        profile: FileProfile,
        *,
        chunk_rows: int,
        columns: Sequence[str] | None = None,
        progress: Progress | None = None,
        cancelled: Callable[[], bool] | None = None,
        threads: bool = True,
    ) -> Iterator[RecordChunk]:
        """``iter_chunks(profile, chunk_rows=..., columns=...)``, from memory when this cache
        is usable for it (else, and from where the cache stopped, from the file). With
        *columns*, a kept chunk's issues are still those of every column."""
        from outbound_desk.files.reader import iter_chunks

        given = 0
        if self.usable(profile, chunk_rows):
            while True:
                got = self._next(given, cancelled)
                if got is True:
                    if progress is not None:
                        progress(profile.size_bytes, profile.size_bytes, "reading")
                    return
                if got is False:
                    break
                assert not isinstance(got, bool)
                chunk, done, total = got
                if cancelled is not None and cancelled():
                    raise Cancelled
                if progress is not None:
                    progress(done, total, "reading")
                given += 1
                table = chunk.table if columns is None else chunk.table.select(list(columns))
                yield RecordChunk(table, chunk.records, chunk.issues, chunk.raw)
        if cancelled is not None and cancelled():
            raise Cancelled
        rest = iter_chunks(
            profile,
            chunk_rows=chunk_rows,
            columns=columns,
            progress=progress,
            cancelled=cancelled,
            threads=threads,
        )
        for i, chunk in enumerate(rest):
            if i >= given:
                yield chunk
