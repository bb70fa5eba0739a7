"""The official Genesys SDK's view of the API, read from its generated source (never imported).

``PureCloudPlatformClientV2`` is a dev dependency. Importing it takes seconds (its package
imports ~6,600 models), so this module reads the generated files as text instead: every
``models/*.py`` has literal ``swagger_types`` and ``attribute_map`` dicts and enum setters with
``allowed_values = [...]``; every ``apis/*_api.py`` method has its ``resource_path``, HTTP
method, ``body`` type (in the docstring, in swagger notation) and ``response_type``.

:func:`check_value` walks a JSON value against a swagger type (``ContactList``,
``list[DialerContact]``, ``dict(str, PhoneNumberStatus)``, ``datetime``...) and reports every
key the model does not know, every value of the wrong type and every enum value outside
``allowed_values``.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import functools
import importlib.util
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

#: The SDK's API files whose operations the sandbox serves (OutboundApi and the download).
API_FILES = ("outbound_api.py", "downloads_api.py")

_PRIMITIVES = frozenset(
    {"str", "int", "float", "bool", "datetime", "date", "object", "LocalDateTime", "YearMonth"}
)


def sdk_root() -> Path | None:
    """The installed SDK's package directory, found without importing it."""
    spec = importlib.util.find_spec("PureCloudPlatformClientV2")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@dataclasses.dataclass(frozen=True)
class Model:
    """One SDK model: JSON key -> swagger type, and the enum keys' allowed values."""

    name: str
    fields: Mapping[str, str]
    enums: Mapping[str, tuple[str, ...]]


@dataclasses.dataclass(frozen=True)
class Operation:
    """One SDK API method: where it is, what it sends and what it gets back."""

    name: str
    method: str
    path: str
    pattern: re.Pattern[str]
    body_type: str | None
    response_type: str | None
    query_params: frozenset[str]

    @property
    def literal_segments(self) -> int:
        return sum(1 for part in self.path.split("/") if part and not part.startswith("{"))


@dataclasses.dataclass(frozen=True)
class Violation:
    """A place where a JSON body disagrees with the SDK model."""

    where: str  # a JSON path, e.g. "entities[3].phoneNumberStatus"
    problem: str

    def __str__(self) -> str:
        return f"{self.where or '(body)'}: {self.problem}"


class Sdk:
    """The models and operations of one installed SDK, parsed on demand and cached."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._model_files: dict[str, Path] | None = None

    # ------------------------------------------------------------------ models
    def _files(self) -> dict[str, Path]:
        if self._model_files is None:
            text = (self.root / "__init__.py").read_text(encoding="utf-8")
            self._model_files = {
                cls: self.root / "models" / f"{module}.py"
                for module, cls in re.findall(r"^from \.models\.(\w+) import (\w+)$", text, re.M)
            }
        return self._model_files

    def has_model(self, name: str) -> bool:
        return name in self._files()

    @functools.cache  # noqa: B019 (one Sdk per session; the cache is the point)
    def model(self, name: str) -> Model:
        path = self._files().get(name)
        if path is None:
            raise KeyError(f"the SDK has no model {name!r}")
        text = path.read_text(encoding="utf-8")
        types = _literal_dict(text, "swagger_types")
        keys = _literal_dict(text, "attribute_map")
        fields = {keys[attr]: types[attr] for attr in types}
        enums: dict[str, tuple[str, ...]] = {}
        for attr, body in re.findall(
            r"@(\w+)\.setter\n    def \w+\(self[^)]*\) -> None:\n(.*?)(?=\n    @|\n    def |\Z)",
            text,
            re.S,
        ):
            found = re.search(r"allowed_values = (\[.*?\])\n", body)
            if found and attr in keys:
                enums[keys[attr]] = tuple(ast.literal_eval(found.group(1)))
        return Model(name, fields, enums)

    # ------------------------------------------------------------------ operations
    @functools.cached_property
    def operations(self) -> tuple[Operation, ...]:
        ops: list[Operation] = []
        for file_name in API_FILES:
            text = (self.root / "apis" / file_name).read_text(encoding="utf-8")
            for chunk in text.split("\n    def ")[1:]:
                op = _operation(chunk)
                if op is not None:
                    ops.append(op)
        # Literal paths before templates: /contactlists/uploads is not /contactlists/{id}.
        ops.sort(key=lambda o: (-o.literal_segments, o.path))
        return tuple(ops)

    def operation_for(self, method: str, path: str) -> Operation | None:
        for op in self.operations:
            if op.method == method.upper() and op.pattern.fullmatch(path):
                return op
        return None


def _literal_dict(text: str, name: str) -> dict[str, str]:
    found = re.search(r"self\." + name + r" = (\{.*?\})\n", text, re.S)
    if found is None:
        raise ValueError(f"no {name} in the model source")
    value = ast.literal_eval(found.group(1))
    assert isinstance(value, dict)
    return value


def _operation(chunk: str) -> Operation | None:
    name = chunk.split("(", 1)[0]
    path = re.search(r"resource_path = '([^']+)'", chunk)
    method = re.search(r"call_api\(resource_path, '(\w+)'", chunk)
    if path is None or method is None:
        return None
    response = re.search(r"response_type=(?:'([^']+)'|None)", chunk)
    body = re.search(r":param (.+?) body:", chunk)
    pattern = re.compile(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path.group(1))))
    return Operation(
        name=name,
        method=method.group(1),
        path=path.group(1),
        pattern=pattern,
        body_type=body.group(1) if body else None,
        response_type=response.group(1) if response and response.group(1) else None,
        query_params=frozenset(re.findall(r"query_params\['(\w+)'\]", chunk)),
    )


# ---------------------------------------------------------------------------------- checking
#: Keys the SDK does not know that a body may still carry: (model, key) -> where it comes from.
Exceptions = Mapping[tuple[str, str], str]


def check_value(
    sdk: Sdk,
    type_name: str,
    value: Any,
    where: str = "",
    *,
    exceptions: Exceptions | None = None,
) -> list[Violation]:
    """Every disagreement between *value* (decoded JSON) and the swagger type *type_name*."""
    out: list[Violation] = []
    _check(sdk, type_name, value, where, exceptions or {}, out)
    return out


def _check(
    sdk: Sdk, t: str, value: Any, where: str, exceptions: Exceptions, out: list[Violation]
) -> None:
    if value is None:
        return  # a null field deserialises to None (enum fields are checked by the model)
    if t.startswith("list["):
        if not isinstance(value, list):
            out.append(Violation(where, f"expected a list ({t}), got {_kind(value)}"))
            return
        inner = t[5:-1]
        for n, item in enumerate(value):
            _check(sdk, inner, item, f"{where}[{n}]", exceptions, out)
        return
    if t.startswith("dict("):
        found = re.fullmatch(r"dict\(([^,]*), (.*)\)", t)
        assert found is not None, t
        if not isinstance(value, dict):
            out.append(Violation(where, f"expected an object ({t}), got {_kind(value)}"))
            return
        inner = found.group(2)
        for key, item in value.items():
            _check(sdk, inner, item, f"{where}.{key}" if where else key, exceptions, out)
        return
    if t in _PRIMITIVES:
        problem = _primitive_problem(t, value)
        if problem:
            out.append(Violation(where, problem))
        return
    if not isinstance(value, dict):
        out.append(Violation(where, f"expected a {t} object, got {_kind(value)}"))
        return
    model = sdk.model(t)
    for key, item in value.items():
        at = f"{where}.{key}" if where else key
        field_type = model.fields.get(key)
        if field_type is None:
            if (t, key) not in exceptions:
                known = ", ".join(sorted(model.fields))
                out.append(Violation(at, f"{t} has no key {key!r} (it has: {known})"))
            continue
        allowed = model.enums.get(key)
        if allowed is not None:
            if item is None:
                out.append(
                    Violation(
                        at, f"null for the enum {t}.{key}: leave the key out (the SDK crashes)"
                    )
                )
                continue
            if not isinstance(item, str) or item not in allowed:
                out.append(
                    Violation(at, f"{item!r} is not one of {t}.{key}'s values {list(allowed)}")
                )
                continue
        _check(sdk, field_type, item, at, exceptions, out)


def _primitive_problem(t: str, value: Any) -> str | None:
    if t == "object":
        return None
    if t == "bool":
        return None if isinstance(value, bool) else f"expected a boolean, got {_kind(value)}"
    if t == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"expected an integer, got {_kind(value)}"
    if t == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else f"expected a number, got {_kind(value)}"
    if not isinstance(value, str):
        return f"expected a string ({t}), got {_kind(value)}"
    if t == "datetime":
        try:
            dt.datetime.fromisoformat(value)
        except ValueError:
            return f"{value!r} is not an ISO-8601 date-time"
    if t == "date":
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return f"{value!r} is not an ISO-8601 date"
    return None


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {value}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}"


def collapse(violations: Iterable[Violation]) -> dict[tuple[str, str], int]:
    """Violations grouped by their path with list indices as ``[*]``: one line per kind."""
    counts: dict[tuple[str, str], int] = {}
    for v in violations:
        key = (re.sub(r"\[\d+\]", "[*]", v.where), re.sub(r"\[\d+\]", "[*]", v.problem))
        counts[key] = counts.get(key, 0) + 1
    return counts
