"""The plan of an upload: the file profiled and checksummed, bound to the target list's columns,
and streamed as validated, normalised chunks with stable contact ids and payload hashes.

Every contact's id is the value of the file's id column (the CRM key), never a row number or a
generated id, so a retry or a rerun updates instead of duplicating. A file without an id column
is refused unless the user allows it explicitly (``allow_no_id``); then the platform makes the
ids, the ledger keys rows by the file's checksum and record number (so rerunning the very same
file skips what it sent), and the report warns that any other upload of these contacts (an
edited file, another export) adds them again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd
import pyarrow as pa

from outbound_desk.base.cancel import Progress
from outbound_desk.contacts import (
    ColumnMapping,
    DuplicatePlan,
    DuplicatePolicy,
    ListSchema,
    MappingError,
    SchemaError,
    ValidationOptions,
    ValidationReport,
    diff_columns,
    iter_valid_chunks,
    load_schema,
    samples_of,
    suggest_mapping,
)
from outbound_desk.contacts.output import has_missing, json_objects, utf8_values
from outbound_desk.files import Cancelled, FileError, FileProfile, Overrides, scan, sniff
from outbound_desk.files.identity import FileChangedError, FileIdentity
from outbound_desk.upload.ledger import canonical_json, payload_hash, payload_hashes
from outbound_desk.upload.model import (
    Outcome,
    UploadCancelled,
    UploadOptions,
    UploadRejected,
    UploadUsageError,
)

_AFTER_A_CHANGE = (
    "the upload stopped before sending any row read after the change. Nothing is lost: put "
    "the original file back and rerun to resume this upload, or rerun with the file as it is "
    "now (a new upload; contacts already confirmed with the same data are skipped)"
)
_PHONE_WORDS = ("phone", "mobile", "cell", "tel", "fax")


@dataclass
class PlannedChunk:
    """Valid rows of one chunk ready to send, and the rejected rows of the same chunk.

    A row's payload is kept as text, the canonical JSON of its ``data`` object (what its
    payload hash is taken of, and what a JSON batch sends), never as a dict: see
    docs/ARCHITECTURE.md, "The collector and the upload".
    """

    frame: pd.DataFrame  # list columns in list order, normalised, every value a str
    records: list[int]
    contact_ids: list[str]
    hashes: list[str]
    #: each valid row's data as canonical JSON (``ledger.canonical_json``), ``large_string``
    objects: pa.Array
    rejected: list[tuple[int, str | None, str]]  # (record, contact id if readable, reason)
    #: rows the duplicate policy dropped for another row of their id, as *rejected*
    dropped: list[tuple[int, str | None, str]] = field(default_factory=list)
    _texts: list[str] | None = field(default=None, repr=False)

    @property
    def payloads(self) -> list[str]:
        """:attr:`objects` as Python strings (made once, when a JSON batch needs them)."""
        if self._texts is None:
            self._texts = [raw.decode() for raw in utf8_values(self.objects)]
        return self._texts

    def payload(self, i: int) -> dict[str, str]:
        """Row *i*'s data as a dict (for tests and messages; the upload sends the text)."""
        data: dict[str, str] = json.loads(self.payloads[i])
        return data

    def journal_rows(self) -> Iterator[tuple[int, str | None, str, str]]:
        """The journal's rows of this chunk, made one at a time as the journal takes them."""
        pending = str(Outcome.PENDING)
        for rec, cid in zip(self.records, self.contact_ids, strict=True):
            yield rec, cid, pending, ""
        for rec, known, why in self.rejected:
            yield rec, known, str(Outcome.REJECTED), why
        for rec, known, why in self.dropped:
            yield rec, known, str(Outcome.DROPPED), why


def payloads_of(frame: pd.DataFrame) -> tuple[pa.Array, list[str]]:
    """Each row's canonical JSON and payload hash, made with Arrow kernels from the columns.

    A frame with a missing value (validation never gives one: every value is a str) takes
    the row-by-row definition instead, so the hashes stay :func:`payload_hash`'s.
    """
    if has_missing(frame):
        rows: list[dict[str, str]] = frame.to_dict("records")  # type: ignore[assignment]
        texts = pa.array([canonical_json(r) for r in rows], type=pa.large_string())
        return texts, [payload_hash(r) for r in rows]
    objects = json_objects(frame)
    return objects, payload_hashes(objects)


class Plan:
    """One file, profiled and checksummed; :meth:`bind` ties it to a list's columns."""

    def __init__(
        self, options: UploadOptions, profile: FileProfile, create_schema: ListSchema | None
    ) -> None:
        assert profile.sha256 is not None
        assert profile.rows is not None
        self.options = options
        self.profile = profile
        self.sha256: str = profile.sha256
        self.rows: int = profile.rows
        self.create_schema = create_schema
        self.schema: ListSchema | None = None
        self.mapping: ColumnMapping | None = None
        self.id_column: str | None = None
        self.anonymous = options.allow_no_id and not options.id_column
        self._diff_text = ""
        #: Says which column the id-column rule chose, when nobody named one.
        self.id_note: str | None = None
        #: The duplicate pre-pass's answer (``ValidationReport.duplicate_plan``): from the
        #: preview, else from this plan's first pass; a later pass over the unchanged file (the
        #: reconcile) does not read the file for it again (issue 13).
        self.duplicate_plan: DuplicatePlan | None = None
        self.report: ValidationReport | None = None
        #: The file as it was before the scan (None: not checked, e.g. a plan built in a test).
        self.identity: FileIdentity | None = None

    # ------------------------------------------------------------------ decisions
    def choose_transport(self, opts: UploadOptions) -> Literal["api", "file"]:
        if opts.via == "auto":
            return "file" if self.rows > opts.file_threshold else "api"
        return opts.via

    def looks_like_phone(self, column: str) -> bool:
        folded = column.casefold()
        return any(w in folded for w in _PHONE_WORDS)

    def diff_text(self) -> str:
        return self._diff_text

    def bind(self, schema: ListSchema) -> list[str]:
        """Map the file onto *schema*; return the file columns the list lacks (unresolved).

        Raises :class:`UploadRejected` when the id column is missing or unknown, or a required
        column has no source; :class:`UploadUsageError` for a mapping naming unknown columns.
        """
        opts, profile = self.options, self.profile
        id_column = self._id_column(schema)
        if id_column is not None and id_column not in schema.columns:
            lacking_id = [c for c in profile.columns if c.casefold() == id_column.casefold()]
            if not lacking_id:
                raise UploadRejected(
                    f"the id column {id_column!r} is neither in the file "
                    f"({', '.join(profile.columns)}) "
                    f"nor in list {schema.name!r}; choose the CRM key column with --id-column"
                )
        schema = schema.with_id_column(id_column if id_column in schema.columns else None)
        diff = diff_columns(
            profile.columns, schema, has_header=profile.has_header, samples=samples_of(profile)
        )
        d = diff.as_dict()
        self._diff_text = ", ".join(
            f"{k}: {', '.join(str(x) for x in v) or '-'}"
            for k, v in d.items()
            if k in ("matched", "missing", "extra") and isinstance(v, list | tuple)
        )
        try:
            mapping = suggest_mapping(diff, schema, profile.columns).with_changes(
                mapped={fc: lc for fc, lc in opts.mapping.items() if lc is not None},
                excluded=[fc for fc, lc in opts.mapping.items() if lc is None],
            )
        except MappingError as exc:
            raise UploadUsageError(f"column mapping: {exc}") from None
        lacking = mapping.unresolved
        if lacking:
            return lacking
        fed = mapping.sources
        missing_required = [c for c in schema.required_columns if c not in fed]
        if missing_required:
            raise UploadRejected(
                f"required column(s) {', '.join(missing_required)} of list {schema.name!r} have "
                "no column in the file; map a file column onto them (--map FILE=LIST)"
            )
        if id_column is None:
            self.anonymous = True
        elif id_column not in fed:
            raise UploadRejected(
                f"the id column {id_column!r} gets no value from the file; "
                "map a file column onto it"
            )
        else:
            # The list has an id column and the file feeds it: its values are the contact ids
            # (and the CSV import's contact-id-name), with --allow-no-id too.
            self.anonymous = False
        self.schema, self.mapping, self.id_column = schema, mapping, id_column
        return []

    def check_unchanged(self) -> None:
        """Stop (:class:`UploadRejected`) if the file is no longer the one scanned.

        The upload keeps what it recorded: every row it journalled or sent was read before
        the change, so putting the original file back and rerunning resumes it (same
        checksum), and rerunning on the file as it is now is a new upload (another checksum)
        that the ledger's per-contact hashes keep exact.
        """
        if self.identity is None:
            return
        try:
            self.identity.check("uploaded", _AFTER_A_CHANGE)
        except FileChangedError as exc:
            raise UploadRejected(str(exc)) from None

    def _id_column(self, schema: ListSchema) -> str | None:
        opts = self.options
        wanted = opts.id_column
        if wanted is None and self.create_schema is not None:
            wanted = self.create_schema.id_column
        if wanted is None:
            wanted = schema.id_column
        if wanted is None and not opts.allow_no_id and opts.id_column_rule == "auto":
            # The preferences' id-column rule, the same the preview starts from: a column
            # that reads as a CRM key (never a phone column), fed by the file.
            wanted = self._key_column(schema)
        if wanted is None:
            if opts.allow_no_id:
                return None
            raise UploadRejected(
                "no contact id column: say which file column holds the CRM key with "
                "--id-column COLUMN, so that a retry or a rerun updates instead of duplicating "
                "(or --allow-no-id to let the platform make ids: a rerun then duplicates)"
            )
        # The id column may be named as in the file; the list column it feeds is the id.
        by_fold = {c.casefold(): c for c in schema.columns}
        if wanted.casefold() in by_fold:
            return by_fold[wanted.casefold()]
        target = opts.mapping.get(wanted)
        return target if target else wanted

    def _key_column(self, schema: ListSchema) -> str | None:
        from outbound_desk.contacts.ids import choose_id_column

        in_file = {c.casefold(): c for c in self.profile.columns}
        sources = {c: in_file[c.casefold()] for c in schema.columns if c.casefold() in in_file}
        sources.update({lc: fc for fc, lc in self.options.mapping.items() if lc is not None})
        choice = choose_id_column(schema.with_id_column(None), sources=sources)
        if choice.column is not None:
            self.id_note = (
                f"contact ids from column {choice.column!r} ({choice.describe()}); "
                "choose another with --id-column"
            )
        return choice.column

    # ------------------------------------------------------------------ streaming
    def chunks(self, *, cancelled: Callable[[], bool] | None = None) -> Iterator[PlannedChunk]:
        """Validated, normalised chunks in file order (a second call reads the file again)."""
        assert self.schema is not None, "bind() the plan first"
        assert self.mapping is not None
        opts, schema = self.options, self.schema
        vopts = ValidationOptions(region=opts.region, duplicates=DuplicatePolicy(opts.duplicates))
        reports: list[ValidationReport] = []
        keeps_one = vopts.duplicates is not DuplicatePolicy.REJECT
        id_pos: int | None = None
        if self.id_column is not None:
            source = self.mapping.sources.get(self.id_column)
            if source is not None:
                id_pos = list(self.profile.columns).index(source)
        # The bytes this pass reads, to compare with the scan's checksum at the end.
        read = hashlib.sha256() if self.profile.workbook is None else None
        for vc in iter_valid_chunks(
            self.profile,
            schema,
            self.mapping,
            vopts,
            cancelled=cancelled,
            report=reports,
            hasher=read,
            duplicate_plan=self.duplicate_plan,
        ):
            if reports and reports[0].duplicate_plan is not None:
                self.duplicate_plan = reports[0].duplicate_plan
            records: list[int] = vc.records.tolist()
            frame = vc.frame
            objects, hashes = payloads_of(frame)
            if self.anonymous or vc.ids is None:
                # Row keys for the ledger only (never sent): scoped to this file's bytes, so
                # that rerunning this very file skips what it sent, and nothing else matches.
                ids = [f"row:{self.sha256[:16]}:{r}" for r in records]
            else:
                ids = [str(x) for x in vc.ids.tolist()]
            rejected: list[tuple[int, str | None, str]] = []
            dropped: list[tuple[int, str | None, str]] = []
            for r in vc.rejected:
                cid = (
                    (r.values[id_pos].strip() or None)
                    if id_pos is not None and id_pos < len(r.values)
                    else None
                )
                # Under first/last the row of the id that is kept goes to the list; a row whose
                # only fault is being the other one is dropped, not refused.
                into = dropped if keeps_one and r.duplicate_only else rejected
                into.append((r.record, cid, "; ".join(r.reasons)))
            # Only rows read while the file was still the one scanned (and checksummed) go on
            # to the journal and the platform.
            self.check_unchanged()
            yield PlannedChunk(
                frame=frame,
                records=records,
                contact_ids=ids,
                hashes=hashes,
                objects=objects,
                rejected=rejected,
                dropped=dropped,
            )
        report = reports[0] if reports else None
        self.report = report
        if report is not None and report.cancelled:
            raise UploadCancelled("the upload was cancelled; rerun it to continue where it stopped")
        self.check_unchanged()
        if report is not None and report.blocked:
            problems = "; ".join(i.message for i in report.issues[:5])
            raise UploadRejected(f"the file does not fit list {schema.name!r}: {problems}")
        if read is not None and read.hexdigest() != self.sha256:
            # A change no file time showed (within the file system's timestamp tick).
            raise UploadRejected(
                f"{self.profile.path} changed while it was being uploaded (the bytes read to "
                "send are not the bytes checked: their SHA-256 differs, though no file time "
                "moved), so rows read after the change may have been sent. Nothing is lost: "
                "the ledger holds what each contact was sent with, so rerunning (on the "
                "original file, which resumes, or on the file as it is now, a new upload) "
                "resends whatever differs"
            )


def _still(prepared: FileProfile | None, identity: FileIdentity | None) -> bool:
    """Whether a preview's scanned profile still describes the file: it is the file the scan
    read (size, times, inode as when the scan began), so its counts and checksum hold."""
    return (
        prepared is not None
        and prepared.sha256 is not None
        and prepared.rows is not None
        and identity is not None
        and prepared.size_bytes == identity.size
        and identity.same_as(prepared.identity)
    )


def open_plan(
    options: UploadOptions,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    prepared: FileProfile | None = None,
) -> Plan:
    """Profile and checksum the file (one streaming pass) and load the schema to create.

    *prepared* is the file as a preview already profiled and scanned it (the person's
    detection overrides applied, rows counted, SHA-256 taken): it is used as it is, so the
    file is not read again before the stream to the platform.
    """
    try:
        overrides = Overrides(**options.read)
    except TypeError as exc:
        raise UploadUsageError(f"how to read the file: {exc}") from None
    try:
        identity: FileIdentity | None = FileIdentity.of(options.file)
    except OSError:
        identity = None  # sniff says what is wrong with it
    try:
        if _still(prepared, identity):
            assert prepared is not None
            profile = prepared
            # From here on the file must still be what the preview's scan read.
            identity = prepared.identity
        else:
            profile = scan(sniff(options.file, overrides), progress=progress, cancelled=cancelled)
        if identity is not None:
            identity.check(
                "read",
                "its checksum is of no one version of it. Nothing was sent; run the "
                "upload again once the file is complete",
            )
    except FileError as exc:
        raise UploadRejected(f"{options.file}: {exc}") from None
    except Cancelled:
        raise UploadCancelled("the upload was cancelled before anything was sent") from None
    create_schema = None
    if options.create:
        assert options.schema_path is not None
        try:
            create_schema = load_schema(options.schema_path)
        except (SchemaError, OSError) as exc:
            raise UploadUsageError(f"schema {options.schema_path}: {exc}") from None
    plan = Plan(options, profile, create_schema)
    plan.identity = identity
    return plan
