"""The sandbox org's HTTP API: the real paths, status codes and camelCase bodies.

Written from /work/shared/GENESYS_API.md. Choices where the platform is not documented are
listed in this package's README.md.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import csv
import io
import itertools
import json
import math
import os
import re
import secrets
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from outbound_desk.emulator import csvimport
from outbound_desk.emulator.errors import (
    ApiError,
    bad_request,
    error_body,
    invalid_value,
    not_found,
)
from outbound_desk.emulator.gate import CORRELATION_KEY, Gate
from outbound_desk.emulator.org import Export, Org, Upload, pkce_challenge
from outbound_desk.emulator.recorder import Recorder, record_path_from_env
from outbound_desk.emulator.store import JSON, list_uri, now_iso

Handler = Callable[[Request], Awaitable[Response]]
LISTS = "/api/v2/outbound/contactlists"
ONE_LIST = LISTS + "/{list_id}"
SORT_KEYS = {"name", "dateCreated", "dateModified", "id"}
#: GET /contactlists ``filterType`` values (GENESYS_API.md, from the platform's filter-type page).
FILTER_TYPES = (
    "Equals",
    "RegEx",
    "Contains",
    "Prefix",
    "LessThan",
    "LessThanEqualTo",
    "GreaterThan",
    "GreaterThanEqualTo",
    "BeginsWith",
    "EndsWith",
)
MAX_REGEX_CHARS = 256
#: The bulk jobs listing holds the 10 most recent jobs of a list (GENESYS_API.md [C SDK 269]).
BULK_JOBS_KEPT = 10
#: Where the sandbox's "storage host" serves downloads behind signed URLs (no token).
STORAGE_PREFIX = "/storage/downloads/"
DOWNLOAD_URL_TTL_S = 600.0


def json_response(body: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
    )


def _context_id(request: Request) -> str:
    return str(request.scope.get(CORRELATION_KEY) or uuid.uuid4())


def _endpoint(fn: Handler) -> Handler:
    """Turn :class:`ApiError` (and any bug) into the Genesys error body."""

    async def wrapper(request: Request) -> Response:
        try:
            return await fn(request)
        except ApiError as exc:
            response = json_response(exc.body(_context_id(request)), exc.status)
            response.headers.update(exc.headers)
            return response
        except Exception as exc:  # a bug in the sandbox still answers like the platform
            return json_response(
                error_body(
                    500,
                    "internal.server.error",
                    f"The sandbox failed: {type(exc).__name__}: {exc}",
                    _context_id(request),
                ),
                500,
            )

    wrapper.__name__ = fn.__name__
    return wrapper


def _too_large(what: str, size: int, limit: int) -> ApiError:
    return ApiError(
        413,
        "request.entity.too.large",
        f"{what} is {size} bytes; at most {limit} are accepted.",
        params={"limit": str(limit)},
    )


def _declared_length(request: Request) -> int | None:
    try:
        return int(request.headers["content-length"])
    except (KeyError, ValueError):
        return None


async def _read_capped(request: Request, limit: int, what: str) -> bytes:
    """The request body, refused with 413 past *limit* bytes without reading the rest."""
    declared = _declared_length(request)
    if declared is not None and declared > limit:
        raise _too_large(what, declared, limit)
    raw = bytearray()
    async for chunk in request.stream():
        raw.extend(chunk)
        if len(raw) > limit:
            raise _too_large(what, len(raw), limit)
    return bytes(raw)


def _parse_json(raw: bytes, max_depth: int) -> Any:
    if not raw.strip():
        return None
    try:
        value = json.loads(raw)
    except RecursionError:
        raise bad_request(
            f"The request body is nested too deeply; at most {max_depth} levels are accepted."
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad_request(f"The request body is not valid JSON: {exc}") from None
    # Depth of the decoded value, iteratively (a deep body must not recurse in the sandbox).
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                raise bad_request(
                    f"The request body is nested {depth} levels deep or more; at most "
                    f"{max_depth} are accepted."
                )
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return value


def _flag(request: Request, name: str) -> bool:
    value = request.query_params.get(name, "false").strip().lower()
    if value not in {"true", "false"}:
        raise invalid_value(f"{name} must be true or false, not {value!r}.", field=name)
    return value == "true"


def _int_param(request: Request, name: str, default: int, low: int, high: int | None = None) -> int:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise invalid_value(f"{name} must be a whole number, not {text!r}.", field=name) from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise invalid_value(f"{name} must be {bound}; it was {value}.", field=name)
    return value


def _multi(request: Request, name: str) -> list[str]:
    """Repeated and comma-joined query values (the SDK joins lists with commas)."""
    out: list[str] = []
    for value in request.query_params.getlist(name):
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return out


def _page_uris(path: str, query: dict[str, str], page: int, page_count: int) -> JSON:
    def uri(number: int) -> str:
        return path + "?" + urllib.parse.urlencode({**query, "pageNumber": str(number)})

    out: JSON = {
        "firstUri": uri(1),
        "lastUri": uri(max(page_count, 1)),
        "selfUri": uri(page),
    }
    if page < page_count:
        out["nextUri"] = uri(page + 1)
    if page > 1:
        out["previousUri"] = uri(min(page - 1, max(page_count, 1)))
    return out


class Api:
    """The route handlers, bound to one :class:`Org`."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.store = org.store

    # ------------------------------------------------------------------ helpers
    async def _json(self, request: Request) -> Any:
        """The JSON body, within the platform's size and nesting limits (400/413 past them)."""
        limits = self.store.limits
        raw = await _read_capped(request, limits.max_json_bytes, "The request body")
        return _parse_json(raw, limits.max_json_depth)

    async def _spool(self, chunks: AsyncIterator[bytes]) -> Path:
        """Stream an uploaded file to a temporary file (never whole in memory), capped."""
        limit = self.store.limits.max_upload_bytes
        fd, name = tempfile.mkstemp(prefix="outbound-desk-sandbox-upload-")
        path = Path(name)
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise _too_large("The file", size, limit)
                    out.write(chunk)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path

    def _visible(self, list_id: str) -> JSON:
        """The list, or 404 if it does not exist or is still inside ``create_404_ms``."""
        body = self.store.get_list(list_id)
        created = self.store.created_at(list_id)
        hidden_ms = self.org.faults.create_404_ms
        if (
            body is None
            or created is None
            or (hidden_ms > 0 and (time.monotonic() - created) * 1000 < hidden_ms)
        ):
            raise not_found(f"The contact list {list_id} was not found.")
        return body

    async def _check_refused(self, path: str, request: Request) -> None:
        """Answer as an org that does not offer this upload path, when a test asked for it."""
        status = self.org.refused(path)
        if status is not None:
            # Read what the client sends before answering, so it sees the answer, not a reset.
            await request.body()
        if status == 404:
            # An org without the feature has no such route: the unknown-path answer.
            raise not_found(f"No resource at {request.method} {request.url.path}.")
        if status == 403:
            permission = "outbound:contactList:upload"
            raise ApiError(
                403,
                "missing.permissions",
                f"Unable to perform the requested action. You are missing the following "
                f"permission(s): [{permission}]",
                params={"permissions": permission},
            )

    def _render_list(self, body: JSON, *, size: bool, import_status: bool) -> JSON:
        out = dict(body)
        if not size:
            out.pop("size", None)
        if import_status:
            out["importStatus"] = self.store.import_status(body["id"])
        return out

    # ------------------------------------------------------------------ OAuth
    async def token(self, request: Request) -> Response:
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        client_id, client_secret = fields.get("client_id"), fields.get("client_secret")
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(auth[6:].strip()).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return _oauth_error(401, "invalid_client", "The Basic credentials are garbled.")
            client_id, _, client_secret = decoded.partition(":")
        grant = fields.get("grant_type")
        config, org = self.org.config, self.org
        confidential = client_id == config.client_id and client_secret == config.client_secret
        known = ("client_credentials", "authorization_code", "refresh_token")
        if grant in known and client_secret and not confidential:
            return _oauth_error(401, "invalid_client", "The client id or client secret is wrong.")
        refresh: str | None = None
        if grant == "client_credentials":
            if not confidential:
                return _oauth_error(
                    401, "invalid_client", "The client id or client secret is wrong."
                )
        elif grant == "authorization_code":
            if client_id not in (config.client_id, config.pkce_client_id):
                return _oauth_error(401, "invalid_client", "The client id is unknown.")
            code_grant = org.take_code(fields.get("code", ""))
            if code_grant is None or code_grant.client_id != client_id:
                return _oauth_error(400, "invalid_grant", "The code is unknown, used or expired.")
            if fields.get("redirect_uri") != code_grant.redirect_uri:
                return _oauth_error(
                    400, "invalid_grant", "redirect_uri differs from the authorize request."
                )
            if pkce_challenge(fields.get("code_verifier", "")) != code_grant.challenge:
                return _oauth_error(
                    400, "invalid_grant", "The code_verifier does not match the code_challenge."
                )
            # A refresh token for a code-grant client with its secret (the SDK's refresh sends
            # client_id:client_secret); a public client gets one only if the org says so.
            if confidential or self.store.behaviour.pkce_refresh == "issue":
                refresh = org.new_refresh_token(client_id, confidential=confidential)
        elif grant == "refresh_token":
            held = fields.get("refresh_token", "")
            refresh_grant = org.refresh_grant(held)
            if refresh_grant is None or refresh_grant.client_id != client_id:
                return _oauth_error(400, "invalid_grant", "The refresh token is unknown.")
            if refresh_grant.confidential and not confidential:
                return _oauth_error(
                    401, "invalid_client", "This refresh token needs the client's secret."
                )
            if not refresh_grant.confidential and self.store.behaviour.pkce_refresh != "issue":
                return _oauth_error(400, "invalid_grant", "The refresh token was revoked.")
            refresh = held
        else:
            return _oauth_error(
                400,
                "unsupported_grant_type",
                "grant_type must be client_credentials, authorization_code or refresh_token.",
            )
        token, expires_in = org.issue_token()
        body: JSON = {"access_token": token, "token_type": "bearer", "expires_in": expires_in}
        if refresh is not None:
            body["refresh_token"] = refresh
        return json_response(body)

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        redirect_uri = q.get("redirect_uri", "")
        parsed = urllib.parse.urlsplit(redirect_uri)
        client_id = q.get("client_id")
        if client_id not in (self.org.config.client_id, self.org.config.pkce_client_id):
            return _oauth_error(400, "invalid_client", "The client id is unknown.")
        if not self.org.redirect_registered(redirect_uri):
            # Genesys matches the redirect URI exactly against the OAuth client's list; an
            # unregistered one gets an error page, never a redirect with a code.
            return _oauth_error(
                400,
                "invalid_request",
                f"redirect_uri {redirect_uri!r} is not registered on OAuth client {client_id}: "
                "add it to the client's Authorized redirect URIs, exactly as sent.",
            )
        reply: dict[str, str] = {}
        if q.get("response_type") != "code":
            reply["error"] = "unsupported_response_type"
        elif not q.get("code_challenge") or q.get("code_challenge_method") != "S256":
            reply["error"] = "invalid_request"
            reply["error_description"] = "PKCE with code_challenge_method=S256 is required"
        else:
            reply["code"] = self.org.new_code(client_id, redirect_uri, q["code_challenge"])
        if "state" in q:
            reply["state"] = q["state"]
        joiner = "&" if parsed.query else "?"
        # The sandbox has one user who is always signed in: straight back with the code.
        return RedirectResponse(redirect_uri + joiner + urllib.parse.urlencode(reply), 302)

    # ------------------------------------------------------------------ contact lists
    async def get_lists(self, request: Request) -> Response:
        page_size = _int_param(request, "pageSize", 25, 1, 100)
        page = _int_param(request, "pageNumber", 1, 1)
        name = request.query_params.get("name")
        filter_type = _filter_type(request.query_params.get("filterType", "Prefix"))
        if name and filter_type == "regex":
            if len(name) > MAX_REGEX_CHARS:
                raise invalid_value(
                    f"A RegEx name filter has at most {MAX_REGEX_CHARS} characters.", field="name"
                )
            try:
                re.compile(name)
            except re.error as exc:
                raise invalid_value(
                    f"The name filter is not a valid regular expression: {exc}.", field="name"
                ) from None
        ids = set(_multi(request, "id"))
        division_ids = set(_multi(request, "divisionId"))
        sort_by = request.query_params.get("sortBy", "name")
        if sort_by not in SORT_KEYS:
            raise invalid_value(
                f"sortBy must be one of {', '.join(sorted(SORT_KEYS))}.", field="sortBy"
            )
        order = request.query_params.get("sortOrder", "ascending").lower()
        if order not in {"ascending", "descending", "asc", "desc"}:
            raise invalid_value("sortOrder must be ascending or descending.", field="sortOrder")
        include_size = _flag(request, "includeSize")
        include_status = _flag(request, "includeImportStatus")

        found: list[JSON] = []
        for body in self.store.lists():
            try:
                self._visible(body["id"])
            except ApiError:
                continue
            if ids and body["id"] not in ids:
                continue
            if division_ids and body["division"]["id"] not in division_ids:
                continue
            if name and not _name_matches(body["name"], name, filter_type):
                continue
            found.append(body)

        def key(body: JSON) -> Any:
            value = body.get(sort_by, "")
            return value.casefold() if sort_by == "name" else value

        found.sort(key=key, reverse=order.startswith("desc"))
        total = len(found)
        page_count = math.ceil(total / page_size)
        chunk = found[(page - 1) * page_size : page * page_size]
        if (
            not chunk
            and (name or ids)
            and not _flag(request, "allowEmptyResult")
            and self.store.behaviour.empty_result == "error"
        ):
            # A look-up that matches nothing (README: the sandbox's reading of the SDK's
            # "whether to return an empty page when there are no results").
            raise ApiError(
                404,
                "no.results",
                f"No contact list matches (page {page}, {total} found). Ask with "
                "allowEmptyResult=true for an empty page instead.",
            )
        query = {k: v for k, v in request.query_params.items() if k != "pageNumber"}
        query.setdefault("pageSize", str(page_size))
        envelope: JSON = {
            "entities": [
                self._render_list(b, size=include_size, import_status=include_status) for b in chunk
            ],
            "pageSize": page_size,
            "pageNumber": page,
            "total": total,
            "pageCount": page_count,
            **_page_uris(LISTS, query, page, page_count),
        }
        return json_response(envelope)

    async def create_list(self, request: Request) -> Response:
        created = self.store.create_list(await self._json(request))
        return json_response(self._render_list(created, size=False, import_status=False))

    async def delete_lists(self, request: Request) -> Response:
        ids = _multi(request, "id")
        if not ids:
            raise invalid_value("Name the lists to delete with id=a,b.", field="id")
        for list_id in ids:
            self._visible(list_id)
        for list_id in ids:
            self._forget_list(list_id)
        return Response(status_code=204)

    async def get_list(self, request: Request) -> Response:
        body = self._visible(request.path_params["list_id"])
        return json_response(
            self._render_list(
                body,
                size=_flag(request, "includeSize"),
                import_status=_flag(request, "includeImportStatus"),
            )
        )

    async def put_list(self, request: Request) -> Response:
        list_id = request.path_params["list_id"]
        self._visible(list_id)
        updated = self.store.update_list(list_id, await self._json(request))
        return json_response(self._render_list(updated, size=False, import_status=False))

    async def delete_list(self, request: Request) -> Response:
        list_id = request.path_params["list_id"]
        self._visible(list_id)
        self._forget_list(list_id)
        return Response(status_code=204)

    def _forget_list(self, list_id: str) -> None:
        self.store.delete_list(list_id)
        with self.org.lock:
            self.org.exports.pop(list_id, None)
            self.org.jobs.pop(list_id, None)

    # ------------------------------------------------------------------ contacts
    async def add_contacts(self, request: Request) -> Response:
        list_id = request.path_params["list_id"]
        self._visible(list_id)
        body = await self._json(request)
        if not isinstance(body, list):
            raise bad_request("The request body must be an array of contacts.")
        cap = self.store.limits.max_contacts_per_request
        if len(body) > cap:
            raise bad_request(
                f"{len(body)} contacts were sent; at most {cap} may be added per request."
            )
        items: list[tuple[str | None, bool | None]] = []
        statuses: list[dict[str, bool] | None] = []
        for n, item in enumerate(body):
            where = f"contact {n}"
            if not isinstance(item, dict):
                raise bad_request(f"{where} is not an object.")
            contact_id = item.get("id")
            if contact_id is not None and (not isinstance(contact_id, str) or not contact_id):
                raise invalid_value(f"{where}: id must be a non-empty string.", field="id")
            owner = item.get("contactListId")
            if owner is not None and owner != list_id:
                raise invalid_value(
                    f"{where}: contactListId {owner!r} is not this list ({list_id}).",
                    field="contactListId",
                )
            callable_ = item.get("callable")
            if callable_ is not None and not isinstance(callable_, bool):
                raise invalid_value(f"{where}: callable must be true or false.", "callable")
            items.append((contact_id, callable_))
            statuses.append(
                self.store.check_phone_status(list_id, item.get("phoneNumberStatus"), where)
            )
        datas = self.store.check_contacts_data(list_id, [item.get("data") for item in body])
        stored = self.store.upsert_contacts(
            list_id,
            [(cid, data, c) for (cid, c), data in zip(items, datas, strict=True)],
            phone_status=statuses,
        )
        return json_response(stored)

    async def read_contacts(self, request: Request) -> Response:
        list_id = request.path_params["list_id"]
        self._visible(list_id)
        body = await self._json(request)
        if not isinstance(body, list) or not all(isinstance(i, str) for i in body):
            raise bad_request("The request body must be an array of contact ids.")
        cap = self.store.limits.max_contacts_per_request
        if len(body) > cap:
            raise bad_request(f"{len(body)} ids were sent; at most {cap} may be read at once.")
        return json_response(self.store.get_contacts(list_id, body))

    async def delete_contacts(self, request: Request) -> Response:
        list_id = request.path_params["list_id"]
        self._visible(list_id)
        ids = _multi(request, "contactIds")
        if not ids:
            raise invalid_value("Name the contacts with contactIds=a,b.", field="contactIds")
        self.store.delete_contacts(list_id, ids)
        return Response(status_code=204)

    async def get_contact(self, request: Request) -> Response:
        list_id = request.path_params["list_id"]
        self._visible(list_id)
        return json_response(self.store.get_contact(list_id, request.path_params["contact_id"]))

    async def put_contact(self, request: Request) -> Response:
        list_id = request.path_params["list_id"]
        contact_id = request.path_params["contact_id"]
        self._visible(list_id)
        current = self.store.get_contact(list_id, contact_id)
        body = await self._json(request)
        if not isinstance(body, dict):
            raise bad_request("The request body must be a contact object.")
        data = self.store.check_contact_data(list_id, body.get("data"), "the contact")
        callable_ = body.get("callable", current["callable"])
        if not isinstance(callable_, bool):
            raise invalid_value("callable must be true or false.", field="callable")
        status = self.store.check_phone_status(
            list_id, body.get("phoneNumberStatus"), "the contact"
        )
        stored = self.store.upsert_contacts(
            list_id, [(contact_id, data, callable_)], phone_status=[status]
        )
        return json_response(stored[0])

    async def delete_contact(self, request: Request) -> Response:
        list_id = request.path_params["list_id"]
        contact_id = request.path_params["contact_id"]
        self._visible(list_id)
        self.store.get_contact(list_id, contact_id)
        self.store.delete_contacts(list_id, [contact_id])
        return Response(status_code=204)

    async def search_contacts(self, request: Request) -> Response:
        list_id = request.path_params["list_id"]
        body_list = self._visible(list_id)
        body = await self._json(request) or {}
        if not isinstance(body, dict):
            raise bad_request("The request body must be a search object.")
        page = _body_int(body, "pageNumber", 1, 1, None)
        page_size = _body_int(body, "pageSize", 25, 1, 100)
        if body.get("contactListFilterId"):
            raise invalid_value(
                "The sandbox does not have contact list filters; use criteria.",
                field="contactListFilterId",
            )
        match = _criteria_matcher(body.get("criteria"), body_list["columnNames"])
        found = [c for c in self.store.all_contacts(list_id) if match(c["data"])]
        for sort in reversed(body.get("contactSorts") or []):
            if not isinstance(sort, dict) or sort.get("fieldName") not in body_list["columnNames"]:
                raise invalid_value("contactSorts must name list columns.", "contactSorts")
            field, numeric = sort["fieldName"], bool(sort.get("numeric"))

            def sort_key(contact: JSON, f: str = field, n: bool = numeric) -> Any:
                return _sort_value(contact["data"].get(f, ""), n)

            found.sort(key=sort_key, reverse=str(sort.get("direction", "ASC")).upper() == "DESC")
        total = len(found)
        return json_response(
            {
                "entities": found[(page - 1) * page_size : page * page_size],
                "pageSize": page_size,
                "pageNumber": page,
                "total": total,
                "contactsCount": total,
                "pageCount": math.ceil(total / page_size),
            }
        )

    async def clear(self, request: Request) -> Response:
        list_id = request.path_params["list_id"]
        self._visible(list_id)

        async def later() -> None:
            await asyncio.sleep(self.org.config.clear_delay_s)
            self.store.clear_contacts(list_id)

        self.org.spawn(later())
        return Response(status_code=204)

    # ------------------------------------------------------------------ bulk jobs
    async def bulk_remove(self, request: Request) -> Response:
        return await self._bulk(request, "BulkDelete")

    async def bulk_update(self, request: Request) -> Response:
        return await self._bulk(request, "BulkEdit")

    async def _bulk(self, request: Request, kind: str) -> Response:
        list_id = request.path_params["list_id"]
        body_list = self._visible(list_id)
        body = await self._json(request)
        if not isinstance(body, dict):
            raise bad_request("The request body must be an object.")
        if body.get("contactListFilterId"):
            raise invalid_value(
                "The sandbox does not have contact list filters; use criteria.",
                field="contactListFilterId",
            )
        ids = body.get("contactIds")
        criteria = body.get("criteria")
        if kind == "BulkDelete" and ids is not None:
            # ContactBulkSearchParameters has no contactIds (SDK 269): remove by filter or
            # criteria; single contacts go with DELETE .../contacts?contactIds=.
            raise invalid_value(
                "Bulk remove takes contactListFilterId or criteria, not contactIds; delete "
                "contacts by id with DELETE .../contacts?contactIds=a,b.",
                field="contactIds",
            )
        if ids is None and criteria is None:
            needs = "contactIds or criteria" if kind == "BulkEdit" else "criteria"
            raise invalid_value(f"Name the contacts with {needs}.", "criteria")
        backup = body.get("generateDownloadURI", True)
        if not isinstance(backup, bool):
            raise invalid_value("generateDownloadURI must be true or false.", "generateDownloadURI")
        if ids is not None and not (isinstance(ids, list) and all(isinstance(i, str) for i in ids)):
            raise invalid_value("contactIds must be an array of ids.", field="contactIds")
        edit: dict[str, str] = {}
        edit_callable: bool | None = None
        if kind == "BulkEdit":
            contact = body.get("contact")
            if not isinstance(contact, dict):
                raise invalid_value("contact (the changes to apply) is required.", "contact")
            edit = self.store.check_contact_data(list_id, contact.get("data"), "the edit")
            edit_callable = contact.get("callable")
            if edit_callable is not None and not isinstance(edit_callable, bool):
                raise invalid_value("contact.callable must be true or false.", "callable")
        match = _criteria_matcher(criteria, body_list["columnNames"]) if criteria else None
        wanted = set(ids or [])
        targets = [
            c
            for c in self.store.all_contacts(list_id)
            if (not wanted or c["id"] in wanted) and (match is None or match(c["data"]))
        ]
        job_id = str(uuid.uuid4())
        job: JSON = {
            "id": job_id,
            "state": "InProgress",
            "type": kind,
            "totalRecords": len(targets),
            "completedRecords": 0,
            "percentComplete": 0,
            "selfUri": f"{list_uri(list_id)}/contacts/bulk/jobs/{job_id}",
        }
        with self.org.lock:
            jobs = self.org.jobs.setdefault(list_id, {})
            jobs[job_id] = job
            while len(jobs) > BULK_JOBS_KEPT:
                del jobs[next(iter(jobs))]
        base = str(request.base_url).rstrip("/")

        async def run() -> None:
            await asyncio.sleep(self.org.config.bulk_job_delay_s)
            try:
                if kind == "BulkDelete":
                    self.store.delete_contacts(list_id, [c["id"] for c in targets])
                else:
                    self.store.upsert_contacts(
                        list_id,
                        [
                            (c["id"], {**c["data"], **edit}, edit_callable)
                            for c in targets
                            if self.store.get_contacts(list_id, [c["id"]])
                        ],
                    )
            except ApiError as exc:
                with self.org.lock:
                    job.update(
                        state="Failed", failureReason={"message": exc.message, "code": exc.code}
                    )
                return
            with self.org.lock:
                job.update(state="Complete", completedRecords=len(targets), percentComplete=100)
                if backup:
                    # A backup of the contacts as they were, served like an export.
                    download_id = uuid.uuid4().hex
                    self.org.downloads[download_id] = _export_csv(body_list, targets)
                    job["downloadURI"] = f"{base}/api/v2/downloads/{download_id}"

        self.org.spawn(run())
        with self.org.lock:
            return json_response(dict(job))

    async def bulk_jobs(self, request: Request) -> Response:
        list_id = request.path_params["list_id"]
        self._visible(list_id)
        with self.org.lock:
            # The 10 most recent, newest first.
            jobs = [dict(j) for j in reversed(self.org.jobs.get(list_id, {}).values())]
        return json_response(
            {
                "total": len(jobs),
                "entities": jobs,
                "selfUri": f"{list_uri(list_id)}/contacts/bulk/jobs",
            }
        )

    async def bulk_job(self, request: Request) -> Response:
        list_id = request.path_params["list_id"]
        self._visible(list_id)
        with self.org.lock:
            job = self.org.jobs.get(list_id, {}).get(request.path_params["job_id"])
            found = None if job is None else dict(job)
        if found is None:
            raise not_found(f"The bulk job {request.path_params['job_id']} was not found.")
        return json_response(found)

    # ------------------------------------------------------------------ imports
    async def import_status(self, request: Request) -> Response:
        list_id = request.path_params["list_id"]
        self._visible(list_id)
        return json_response(self.store.import_status(list_id))

    def start_import(
        self,
        list_id: str,
        path: Path,
        contact_id_name: str | None,
        content_type: str = csvimport.CSV_TYPE,
    ) -> None:
        """Accept the file at *path* (the import deletes it) for *list_id*; it is applied in
        the background at a steady pace."""
        self.store.set_import_status(
            list_id,
            {
                "state": "IN_PROGRESS",
                "totalRecords": 0,
                "completedRecords": 0,
                "percentComplete": 0,
            },
        )
        self.org.spawn(self._run_import(list_id, path, contact_id_name, content_type))

    async def _run_import(
        self, list_id: str, path: Path, contact_id_name: str | None, content_type: str
    ) -> None:
        try:
            await self._import_file(list_id, path, contact_id_name, content_type)
        finally:
            path.unlink(missing_ok=True)

    async def _import_file(
        self, list_id: str, path: Path, contact_id_name: str | None, content_type: str
    ) -> None:
        org = self.org
        limits = self.store.limits
        async with org.import_lock(list_id):
            status: JSON = {"state": "IN_PROGRESS", "totalRecords": 0, "completedRecords": 0}
            self.store.set_import_status(list_id, {**status, "percentComplete": 0})
            if org.faults.import_stall_s > 0:
                await asyncio.sleep(org.faults.import_stall_s)
            body = self.store.get_list(list_id)
            if body is None:
                return
            columns: list[str] = body["columnNames"]

            def rows() -> Iterator[csvimport.Row]:
                return csvimport.iter_rows(path, columns, contact_id_name, limits, content_type)

            def scan() -> tuple[int, int]:
                """The whole file checked (nothing is applied from a bad file): rows, new."""
                total = generated = 0
                ids: set[str] = set()
                for cid, _ in rows():
                    total += 1
                    if cid is None:
                        generated += 1
                    else:
                        ids.add(cid)
                return total, generated + self.store.count_new(list_id, ids)

            try:
                if (
                    content_type in csvimport.EXCEL_TYPES
                    and self.store.behaviour.excel_import == "fail"
                ):
                    raise csvimport.BadFileError(
                        "UNSUPPORTED_FILE_TYPE: this org imports CSV files only"
                    )
                total, new = await asyncio.to_thread(scan)
                room = limits.max_contacts_per_list - self.store.contact_count(list_id)
                if new > room:
                    raise csvimport.BadFileError(
                        f"CONTACT_LIST_SIZE_LIMIT_EXCEEDED: the file adds {new} contacts; the "
                        f"list has room for {room}"
                    )
            except csvimport.BadFileError as exc:
                self.store.set_import_status(
                    list_id,
                    {**status, "state": "FAILED", "percentComplete": 0, "failureReason": str(exc)},
                )
                return
            trim = bool(body.get("trimWhitespace", True))
            tick = 0.05
            per_tick = max(1, int(org.config.import_rows_per_s * tick))
            source = rows()
            done = 0
            while done < total:
                chunk = list(itertools.islice(source, per_tick))
                if not chunk:
                    break
                try:
                    self.store.upsert_contacts(
                        list_id,
                        [
                            (cid, {k: v.strip() for k, v in data.items()} if trim else data, None)
                            for cid, data in chunk
                        ],
                    )
                except ApiError as exc:
                    self.store.set_import_status(
                        list_id,
                        {
                            "state": "FAILED",
                            "totalRecords": total,
                            "completedRecords": done,
                            "percentComplete": done * 100 // total,
                            "failureReason": f"{exc.code}: {exc.message}",
                        },
                    )
                    return
                done += len(chunk)
                if done < total:
                    self.store.set_import_status(
                        list_id,
                        {
                            "state": "IN_PROGRESS",
                            "totalRecords": total,
                            "completedRecords": done,
                            "percentComplete": min(99, done * 100 // total),
                        },
                    )
                    await asyncio.sleep(tick)
            # Done: the platform has no COMPLETED state; the key is absent and 100 % shows.
            self.store.set_import_status(
                list_id, {"totalRecords": total, "completedRecords": total, "percentComplete": 100}
            )

    async def presign_upload(self, request: Request) -> Response:
        await self._check_refused("presigned_upload", request)
        body = await self._json(request)
        if not isinstance(body, dict):
            raise bad_request("The request body must be an upload request object.")
        list_id = body.get("id")
        if not isinstance(list_id, str):
            raise invalid_value("id (the contact list id) is required.", field="id")
        self._visible(list_id)
        content_type = body.get("contentType", csvimport.CSV_TYPE)
        if content_type not in csvimport.CONTENT_TYPES:
            raise invalid_value(
                f"contentType must be one of {', '.join(csvimport.CONTENT_TYPES)}.",
                field="contentType",
            )
        timeout = body.get("signedUrlTimeoutSeconds", 600)
        if not isinstance(timeout, int) or not 1 <= timeout <= 604_800:
            raise invalid_value(
                "signedUrlTimeoutSeconds must be between 1 and 604800.",
                field="signedUrlTimeoutSeconds",
            )
        id_name = body.get("contactIdName")
        if id_name is not None and not isinstance(id_name, str):
            raise invalid_value("contactIdName must be a column name.", field="contactIdName")
        key = uuid.uuid4().hex
        headers = {"Content-Type": content_type, "x-amz-meta-contactlistid": list_id}
        with self.org.lock:
            self.org.uploads[key] = Upload(
                list_id, id_name or None, headers, time.monotonic() + timeout
            )
        base = str(request.base_url).rstrip("/")
        return json_response(
            {
                "url": f"{base}/uploads/presigned/{key}",
                "uploadKey": f"contactlists/{list_id}/{key}.{_EXTENSIONS[content_type]}",
                "headers": headers,
            }
        )

    async def presigned_put(self, request: Request) -> Response:
        key = request.path_params["key"]
        with self.org.lock:
            upload = self.org.uploads.get(key)
        if upload is None or time.monotonic() >= upload.expires_at:
            return _storage_error(403, "AccessDenied", "The upload URL is unknown or expired.")
        if "authorization" in request.headers:
            return _storage_error(
                400,
                "InvalidArgument",
                "A presigned URL takes no Authorization header: send only the given headers.",
            )
        for name, value in upload.headers.items():
            if request.headers.get(name) != value:
                return _storage_error(
                    403,
                    "SignatureDoesNotMatch",
                    f"The header {name} must be sent exactly as given by the upload request.",
                )
        limit = self.store.limits.max_upload_bytes
        declared = _declared_length(request)
        if declared is not None and declared > limit:
            return _entity_too_large(declared, limit)
        try:
            path = await self._spool(request.stream())
        except ApiError:
            return _entity_too_large(None, limit)
        with self.org.lock:
            if self.org.uploads.pop(key, None) is None:
                path.unlink(missing_ok=True)
                return _storage_error(403, "AccessDenied", "The upload URL was already used.")
        if self.store.get_list(upload.list_id) is None:
            path.unlink(missing_ok=True)
            return Response(status_code=200)  # the list was deleted; the file goes nowhere
        self.start_import(
            upload.list_id, path, upload.contact_id_name, upload.headers["Content-Type"]
        )
        return Response(status_code=200)

    async def legacy_upload(self, request: Request) -> Response:
        await self._check_refused("legacy_upload", request)
        declared = _declared_length(request)
        limit = self.store.limits.max_upload_bytes
        if declared is not None and declared > limit + 1024 * 1024:  # the file and its form
            raise _too_large("The upload", declared, limit)
        try:
            form = await request.form(max_files=1)
        except Exception as exc:  # the multipart parser's own errors
            raise bad_request(f"The body is not multipart/form-data: {exc}") from None
        list_id = form.get("id")
        file = form.get("file")
        if not isinstance(list_id, str) or not list_id:
            raise invalid_value("The form field id (the contact list id) is required.", "id")
        if form.get("fileType") != "contactlist":
            raise invalid_value("The form field fileType must be contactlist.", "fileType")
        if not isinstance(file, UploadFile):
            raise invalid_value("The form field file (the CSV file) is required.", "file")
        self._visible(list_id)

        async def parts(upload: UploadFile = file) -> AsyncIterator[bytes]:
            while chunk := await upload.read(1 << 20):
                yield chunk

        try:
            path = await self._spool(parts())
        finally:
            await form.close()
        id_name = form.get("contact-id-name")
        self.start_import(list_id, path, id_name if isinstance(id_name, str) and id_name else None)
        if self.store.behaviour.legacy_upload_body == "empty":
            return Response(status_code=200)
        return json_response({"id": list_id, "fileType": "contactlist"})

    # ------------------------------------------------------------------ export
    async def start_export(self, request: Request) -> Response:
        list_id = request.path_params["list_id"]
        body = self._visible(list_id)
        await self._json(request)  # the SDK sends the literal body null
        data = _export_csv(body, self.store.all_contacts(list_id))
        download_id = uuid.uuid4().hex
        export = Export(time.monotonic() + self.org.config.export_delay_s, download_id, now_iso())
        with self.org.lock:
            self.org.downloads[download_id] = data
            old = self.org.exports.get(list_id)
            if old is not None:
                self.org.downloads.pop(old.download_id, None)
            self.org.exports[list_id] = export
        return json_response({"id": list_id, "selfUri": f"{list_uri(list_id)}/export"})

    async def get_export(self, request: Request) -> Response:
        list_id = request.path_params["list_id"]
        self._visible(list_id)
        with self.org.lock:
            export = self.org.exports.get(list_id)
        if export is None or time.monotonic() < export.ready_at:
            raise not_found(f"No export of the contact list {list_id} is ready yet.")
        if _flag(request, "download"):
            # ?download=true redirects straight to the file, as the platform does.
            return RedirectResponse(self._signed_url(request, export.download_id), 303)
        base = str(request.base_url).rstrip("/")
        return json_response(
            {
                "uri": f"{base}/api/v2/downloads/{export.download_id}",
                "exportTimestamp": export.timestamp,
            }
        )

    def _signed_url(self, request: Request, download_id: str) -> str:
        """A signed storage URL for the download, valid for ``DOWNLOAD_URL_TTL_S``."""
        with self.org.lock:
            if download_id not in self.org.downloads:
                raise not_found("The download was not found or has expired.")
            now = time.monotonic()
            if len(self.org.signatures) > 1_000:  # forget expired URLs so a long run stays small
                self.org.signatures = {k: v for k, v in self.org.signatures.items() if v[1] > now}
            signature = secrets.token_urlsafe(24)
            self.org.signatures[signature] = (download_id, now + DOWNLOAD_URL_TTL_S)
        base = str(request.base_url).rstrip("/")
        query = urllib.parse.urlencode(
            {"X-Amz-Expires": str(int(DOWNLOAD_URL_TTL_S)), "X-Amz-Signature": signature}
        )
        return f"{base}{STORAGE_PREFIX}{download_id}/contactlist-export.csv?{query}"

    async def download(self, request: Request) -> Response:
        """``GET /api/v2/downloads/{id}``: a redirect to a signed storage URL (the real
        ``DownloadsApi.get_download``); ``issueRedirect=false`` answers ``{url}`` instead."""
        url = self._signed_url(request, request.path_params["download_id"])
        if request.query_params.get("issueRedirect", "true").strip().lower() == "false":
            return json_response({"url": url})
        return RedirectResponse(url, 303)

    async def storage_get(self, request: Request) -> Response:
        """The storage host behind a signed URL: no token, the signature is the permission."""
        download_id = request.path_params["download_id"]
        if "authorization" in request.headers:
            # What S3 answers a signed URL that also carries an Authorization header.
            return _storage_error(
                400,
                "InvalidArgument",
                "Only one auth mechanism allowed; only the X-Amz-Signature query parameter "
                "should be specified, not an Authorization header.",
            )
        signature = request.query_params.get("X-Amz-Signature", "")
        with self.org.lock:
            signed = self.org.signatures.get(signature)
            data = self.org.downloads.get(download_id)
            fault = self.org.download_fault
        if signed is None or signed[0] != download_id:
            return _storage_error(403, "SignatureDoesNotMatch", "The signature is not valid.")
        if time.monotonic() >= signed[1]:
            return _storage_error(403, "AccessDenied", "Request has expired.")
        if data is None:
            return _storage_error(404, "NoSuchKey", "The specified key does not exist.")
        if fault == "empty":
            data = b""
        elif fault == "html":
            return Response(b"<html><body>Sign in</body></html>", media_type="text/html")
        return Response(
            data,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="contactlist-export.csv"'},
        )


def _oauth_error(status: int, error: str, description: str) -> Response:
    """The login service's error: OAuth fields plus the Genesys ones, for either parser."""
    code = "bad.credentials" if error == "invalid_client" else "bad.request"
    return json_response(
        {
            "error": error,
            "description": description,
            "error_description": description,
            "code": code,
            "status": status,
            "message": description,
        },
        status,
    )


_EXTENSIONS = {
    csvimport.CSV_TYPE: "csv",
    csvimport.EXCEL_TYPES[0]: "xls",
    csvimport.EXCEL_TYPES[1]: "xlsx",
}


def _entity_too_large(size: int | None, limit: int) -> Response:
    """What S3 answers a PUT past its size limit."""
    sent = f" ({size} bytes)" if size is not None else ""
    return _storage_error(
        400,
        "EntityTooLarge",
        f"Your proposed upload{sent} exceeds the maximum allowed size of {limit} bytes.",
    )


def _storage_error(status: int, code: str, message: str) -> Response:
    return json_response({"code": code, "message": message, "status": status}, status)


def _filter_type(text: str) -> str:
    """The ``filterType`` folded to lower case, or 400 naming the values it takes."""
    folded = {f.lower(): f for f in FILTER_TYPES}
    if text.lower() not in folded:
        raise invalid_value(
            f"filterType must be one of {', '.join(FILTER_TYPES)}, not {text!r}.",
            field="filterType",
        )
    return text.lower()


def _name_matches(name: str, wanted: str, filter_type: str) -> bool:
    """Names compare case-insensitively; LessThan & co. compare in that folded order."""
    a, b = name.casefold(), wanted.casefold()
    tests: dict[str, Callable[[], bool]] = {
        "equals": lambda: a == b,
        "regex": lambda: re.search(wanted, name, re.IGNORECASE) is not None,
        "contains": lambda: b in a,
        "prefix": lambda: a.startswith(b),
        "beginswith": lambda: a.startswith(b),
        "endswith": lambda: a.endswith(b),
        "lessthan": lambda: a < b,
        "lessthanequalto": lambda: a <= b,
        "greaterthan": lambda: a > b,
        "greaterthanequalto": lambda: a >= b,
    }
    return tests[filter_type]()


def _body_int(body: JSON, name: str, default: int, low: int, high: int | None) -> int:
    value = body.get(name, default)
    if value is None:
        value = default
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid_value(f"{name} must be a whole number.", field=name)
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise invalid_value(f"{name} must be {bound}; it was {value}.", field=name)
    return value


def _sort_value(text: str, numeric: bool) -> Any:
    if numeric:
        try:
            return (0, float(text))
        except ValueError:
            return (1, 0.0)
    return text.casefold()


def _criteria_matcher(criteria: Any, columns: list[str]) -> Callable[[dict[str, str]], bool]:
    """A predicate for the basic search criteria ``{filterType, clauses: [{predicates}]}``."""
    if not criteria:
        return lambda data: True
    if not isinstance(criteria, dict) or not isinstance(criteria.get("clauses", []), list):
        raise invalid_value("criteria must be {filterType, clauses: [...]}.", field="criteria")
    clause_tests: list[Callable[[dict[str, str]], bool]] = []
    for clause in criteria.get("clauses", []):
        if not isinstance(clause, dict):
            raise invalid_value("criteria clauses must be objects.", field="criteria")
        tests = [_predicate(p, columns) for p in clause.get("predicates") or []]
        combine_clause = any if str(clause.get("filterType", "AND")).upper() == "OR" else all

        def clause_test(
            data: dict[str, str],
            t: list[Callable[[dict[str, str]], bool]] = tests,
            c: Callable[[Any], bool] = combine_clause,
        ) -> bool:
            return c(f(data) for f in t)

        clause_tests.append(clause_test)
    combine = any if str(criteria.get("filterType", "AND")).upper() == "OR" else all
    return lambda data: combine(test(data) for test in clause_tests)


def _predicate(pred: Any, columns: list[str]) -> Callable[[dict[str, str]], bool]:
    """One ``ContactListFilterPredicate``: ``IN`` takes ``range.inSet``, ``BETWEEN`` takes
    ``range.min``/``range.max`` (inclusive unless ``minInclusive``/``maxInclusive`` say not),
    the others take ``value`` (SDK 269 ContactListFilterPredicate / ContactListFilterRange)."""
    if not isinstance(pred, dict) or pred.get("column") not in columns:
        raise invalid_value("Each predicate must name a list column.", field="column")
    column = pred["column"]
    operator = str(pred.get("operator", "EQUALS")).upper()
    numeric = str(pred.get("columnType", "alphabetic")).lower() == "numeric"
    value = str(pred.get("value", ""))
    inverted = bool(pred.get("inverted"))
    span = pred.get("range")
    if span is not None and not isinstance(span, dict):
        raise invalid_value("range must be an object {min, max, inSet...}.", field="range")
    span = span or {}

    def conv(text: str) -> Any:
        return _sort_value(text, numeric)

    def need_range(*keys: str) -> None:
        if not any(span.get(k) is not None for k in keys):
            raise invalid_value(
                f"{operator} takes range.{' or range.'.join(keys)}, not value.", field="range"
            )

    test: Callable[[str], bool]
    if operator == "IN":
        need_range("inSet")
        members = span["inSet"]
        if not isinstance(members, list):
            raise invalid_value("range.inSet must be an array of values.", field="range.inSet")
        wanted = {conv(str(m).strip()) if numeric else str(m).strip().casefold() for m in members}

        def test(x: str) -> bool:
            return (conv(x) if numeric else x.casefold()) in wanted

    elif operator == "BETWEEN":
        need_range("min", "max")
        low, high = span.get("min"), span.get("max")
        low_in, high_in = span.get("minInclusive", True), span.get("maxInclusive", True)

        def test(x: str) -> bool:
            v = conv(x)
            if low is not None:
                lo = conv(str(low))
                if v < lo or (v == lo and low_in is False):
                    return False
            if high is not None:
                hi = conv(str(high))
                if v > hi or (v == hi and high_in is False):
                    return False
            return True

    else:
        tests: dict[str, Callable[[str], bool]] = {
            "EQUALS": lambda x: conv(x) == conv(value),
            "CONTAINS": lambda x: value.casefold() in x.casefold(),
            "BEGINS_WITH": lambda x: x.casefold().startswith(value.casefold()),
            "ENDS_WITH": lambda x: x.casefold().endswith(value.casefold()),
            "LESS_THAN": lambda x: conv(x) < conv(value),
            "LESS_THAN_EQUALS": lambda x: conv(x) <= conv(value),
            "GREATER_THAN": lambda x: conv(x) > conv(value),
            "GREATER_THAN_EQUALS": lambda x: conv(x) >= conv(value),
            # Dates compare as their ISO-8601 text (the sandbox's reading of BEFORE/AFTER).
            "BEFORE": lambda x: bool(x) and x < value,
            "AFTER": lambda x: bool(x) and x > value,
        }
        found = tests.get(operator)
        if found is None:
            raise invalid_value(
                f"operator must be one of {', '.join([*tests, 'BETWEEN', 'IN'])}; not {operator}.",
                field="operator",
            )
        test = found
    return lambda data: test(data.get(column, "")) != inverted


def _export_csv(body: JSON, contacts: list[JSON]) -> bytes:
    """The export file: BOM, ``inin-outbound-id``, the list's columns, then system columns."""
    columns: list[str] = body["columnNames"]
    phones = [p["columnName"] for p in body.get("phoneColumns", [])]
    system = ["ContactCallable"]
    for phone in phones:
        system += [
            f"Callable-{phone}",
            f"AutomaticTimeZone-{phone}",
            f"CallRecordLastAttempt-{phone}",
            f"CallRecordLastResult-{phone}",
        ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["inin-outbound-id", *columns, *system])
    for contact in contacts:
        flag = "1" if contact["callable"] else "0"
        row = [contact["id"], *(contact["data"].get(c, "") for c in columns), flag]
        for _ in phones:
            row += [flag, "", "", ""]
        writer.writerow(row)
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def _routes(api: Api) -> list[Route]:
    def r(path: str, fn: Handler, *methods: str) -> Route:
        return Route(path, _endpoint(fn), methods=list(methods))

    contacts = ONE_LIST + "/contacts"
    return [
        r("/oauth/token", api.token, "POST"),
        r("/oauth/authorize", api.authorize, "GET"),
        r(LISTS, api.get_lists, "GET"),
        r(LISTS, api.create_list, "POST"),
        r(LISTS, api.delete_lists, "DELETE"),
        r(LISTS + "/uploads", api.presign_upload, "POST"),
        r(ONE_LIST, api.get_list, "GET"),
        r(ONE_LIST, api.put_list, "PUT"),
        r(ONE_LIST, api.delete_list, "DELETE"),
        r(contacts, api.add_contacts, "POST"),
        r(contacts, api.delete_contacts, "DELETE"),
        r(contacts + "/bulk", api.read_contacts, "POST"),
        r(contacts + "/search", api.search_contacts, "POST"),
        r(contacts + "/bulk/remove", api.bulk_remove, "POST"),
        r(contacts + "/bulk/update", api.bulk_update, "POST"),
        r(contacts + "/bulk/jobs", api.bulk_jobs, "GET"),
        r(contacts + "/bulk/jobs/{job_id}", api.bulk_job, "GET"),
        r(contacts + "/{contact_id}", api.get_contact, "GET"),
        r(contacts + "/{contact_id}", api.put_contact, "PUT"),
        r(contacts + "/{contact_id}", api.delete_contact, "DELETE"),
        r(ONE_LIST + "/clear", api.clear, "POST"),
        r(ONE_LIST + "/importstatus", api.import_status, "GET"),
        r(ONE_LIST + "/export", api.start_export, "POST"),
        r(ONE_LIST + "/export", api.get_export, "GET"),
        r("/api/v2/downloads/{download_id}", api.download, "GET"),
        r(STORAGE_PREFIX + "{download_id}/contactlist-export.csv", api.storage_get, "GET"),
        r("/uploads/v2/contactlist", api.legacy_upload, "POST"),
        r("/uploads/presigned/{key}", api.presigned_put, "PUT"),
    ]


def create_app(org: Org) -> Any:
    """The sandbox's ASGI app for *org*: routes inside the :class:`Gate`, inside the
    :class:`~outbound_desk.emulator.recorder.Recorder` when traffic is being recorded."""
    api = Api(org)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            code, message = "method.not.allowed", f"{request.method} is not allowed here."
        else:
            code = "not.found"
            message = f"No resource at {request.method} {request.url.path}."
        body = error_body(exc.status_code, code, message, _context_id(request))
        return json_response(body, exc.status_code)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await org.cancel_tasks()

    app = Starlette(
        routes=_routes(api), exception_handlers={HTTPException: http_error}, lifespan=lifespan
    )
    app.state.api = api
    gate = Gate(org, app)
    record_path = record_path_from_env()
    return gate if record_path is None else Recorder(gate, record_path)
