"""The tenant a request runs as (Rust `TenantContext`) and the tenant errors the resolvers raise.

Errors mirror Rust's `TenantError` of ``tenant_v2.rs``: `TenantNotFoundError` ("Tenant not
found"), `TenantDatabaseError` ("Database error: ..."). A store adapter (SQL, in memory) raises
`TenantDatabaseError` for its own failures; the resolver caches neither.

The JSON form is serde_json's, with serde_json's limits, because V1 caches contexts as that JSON
and must treat what serde would refuse as a corrupt entry (a parse error), never as a crash:

- nesting: serde_json's deserializer allows at most `MAX_NESTING` - 1 = 127 nested arrays and
  objects (the context object itself is the first); the 128th opening bracket is the error
  ``recursion limit exceeded at line L column C``. Python's own parser would instead raise
  `RecursionError` near depth 1000 (a `RuntimeError`, which a corrupt-entry handler catching
  `ValueError` does not see). `to_json` refuses the same contexts up front, so the model never
  writes what it could not read back.
- duplicate fields: the derived `Deserialize` of the struct rejects a field given twice
  (``duplicate field `slug```); inside `settings` (a `serde_json::Value`) a repeated key is
  accepted and the last value wins, as serde_json's map does.

Both are `TenantContextFormatError` (a `ValueError`). Parsing is pure, so `from_json` memoises its
result by the stored bytes (bounded, `PARSE_MEMO_SIZE`): a V1 hit re-reads the same bytes on
every request and pays for one parse per distinct value instead of one per hit. A memoised
context is shared between the hits of the same bytes; contexts are immutable values, and their
`settings` must be treated as read-only (copy before editing, or use `with_changes`).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from rustok_sim.model.tenancy.keys import TenantKey, alias_keys

__all__ = [
    "MAX_NESTING",
    "PARSE_MEMO_SIZE",
    "TenantContext",
    "TenantContextFormatError",
    "TenantDatabaseError",
    "TenantError",
    "TenantNotFoundError",
]

MAX_NESTING: Final = 128
"""serde_json's `remaining_depth` at the start of a parse: the 128th nested array or object fails."""

PARSE_MEMO_SIZE: Final = 4096
"""Distinct stored JSON values whose parsed context `from_json` keeps (oldest dropped first)."""

_FIELDS: Final = ("id", "name", "slug", "domain", "settings", "is_active")

# A JSON string (with escapes) or one bracket: what a depth scan needs to look at.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class TenantError(Exception):
    """Base of the tenant errors; `str()` is the Rust Display text, `http_status` the status the
    middleware answers with."""

    http_status = 500


class TenantNotFoundError(TenantError):
    """No tenant has this identifier (Rust `TenantError::NotFound`, HTTP 404)."""

    http_status = 404

    def __init__(self, key: TenantKey | None = None) -> None:
        self.key = key
        super().__init__("Tenant not found")


class TenantDatabaseError(TenantError):
    """The database failed (Rust `TenantError::DatabaseError`, "Database error: {msg}")."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(f"Database error: {message}")


class TenantContextFormatError(ValueError):
    """A tenant context's JSON is not what serde_json would read (or write).

    `reason` is serde's error text without the position (``recursion limit exceeded``,
    ``duplicate field `slug```, ``missing field `name```...); `key` the field a duplicate or
    missing-field error names; `line` / `column` (1-based) where the parse stopped, when known.
    """

    def __init__(self, reason: str, *, key: str | None = None, line: int | None = None,
                 column: int | None = None) -> None:
        self.reason, self.key, self.line, self.column = reason, key, line, column
        where = f" at line {line} column {column}" if line is not None else ""
        super().__init__(f"{reason}{where}")

    def __reduce__(self) -> Any:
        return (_rebuild_format_error, (self.reason, self.key, self.line, self.column))


def _rebuild_format_error(reason: str, key: str | None, line: int | None,
                          column: int | None) -> TenantContextFormatError:
    return TenantContextFormatError(reason, key=key, line=line, column=column)


def _check_depth(text: str) -> None:
    """serde_json's recursion limit, as a scan of the brackets outside strings."""
    depth = 0
    limit = MAX_NESTING - 1
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                pos = match.start()
                line = text.count("\n", 0, pos) + 1
                raise TenantContextFormatError("recursion limit exceeded", line=line,
                                               column=pos - text.rfind("\n", 0, pos))
        elif token in "]}":
            depth -= 1


def _value_depth(value: Any) -> int:
    """How deeply `value` nests arrays and objects (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            depth += 1
            stack.extend((v, depth) for v in item.values())
        elif isinstance(item, (list, tuple)):
            depth += 1
            stack.extend((v, depth) for v in item)
        deepest = max(deepest, depth)
    return deepest


def _first_duplicate(pairs: list[tuple[str, Any]]) -> str | None:
    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen:
            return name
        seen.add(name)
    return None


_PARSED: dict[bytes, TenantContext] = {}


@dataclass(frozen=True, slots=True)
class TenantContext:
    """A tenant as the middleware attaches it to a request (Rust `TenantContext`).

    `settings` is a JSON object. The record is immutable; `with_changes` makes an edited copy.
    The constructor checks the field types (a `TypeError` naming the field and what it expected).
    """

    id: uuid.UUID
    name: str
    slug: str
    domain: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    is_active: bool = True

    def __post_init__(self) -> None:
        problem = None
        if not isinstance(self.id, uuid.UUID):
            problem = ("id", "a uuid.UUID", self.id)
        elif not isinstance(self.name, str):
            problem = ("name", "str", self.name)
        elif not isinstance(self.slug, str):
            problem = ("slug", "str", self.slug)
        elif self.domain is not None and not isinstance(self.domain, str):
            problem = ("domain", "str or None", self.domain)
        elif not isinstance(self.settings, dict):
            problem = ("settings", "a dict (a JSON object)", self.settings)
        elif not isinstance(self.is_active, bool):
            problem = ("is_active", "bool", self.is_active)
        if problem is not None:
            name, expected, got = problem
            raise TypeError(f"TenantContext.{name} must be {expected}, got {type(got).__name__} {got!r:.60}")

    def aliases(self) -> tuple[TenantKey, ...]:
        """The keys this tenant can be looked up by (uuid, slug, and host if it has a domain)."""
        return alias_keys(self.id, self.slug, self.domain)

    def with_changes(self, **changes: Any) -> TenantContext:
        return replace(self, **changes)

    def to_json(self) -> bytes:
        """The bytes V1 stores in its positive cache (serde_json of the context: compact, fields
        in struct order, non-ASCII text as raw UTF-8 rather than ``\\u`` escapes).

        Raises `TenantContextFormatError` for a context serde_json could not read back (settings
        nested 126 levels or more, so that the document would reach `MAX_NESTING`) or one whose
        settings hold something that is not JSON."""
        if 1 + _value_depth(self.settings) >= MAX_NESTING:
            raise TenantContextFormatError(
                f"recursion limit exceeded: settings of tenant {self.slug!r} nest deeper than "
                f"{MAX_NESTING - 2} levels, which serde_json cannot read back")
        try:
            return json.dumps({"id": str(self.id), "name": self.name, "slug": self.slug,
                               "domain": self.domain, "settings": self.settings,
                               "is_active": self.is_active}, separators=(",", ":"),
                              ensure_ascii=False).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise TenantContextFormatError(f"settings of tenant {self.slug!r} are not JSON: {exc}") from None

    @classmethod
    def from_json(cls, data: bytes) -> TenantContext:
        """Parse `to_json` output as serde_json would; `TenantContextFormatError` (a ValueError)
        on anything else. Memoised by the bytes (see the module docstring)."""
        memo = _PARSED.get(data) if type(data) is bytes else None
        if memo is not None:
            return memo
        ctx = cls._parse(bytes(data))
        if len(_PARSED) >= PARSE_MEMO_SIZE:
            del _PARSED[next(iter(_PARSED))]
        _PARSED[bytes(data)] = ctx
        return ctx

    @classmethod
    def _parse(cls, data: bytes) -> TenantContext:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TenantContextFormatError(f"invalid UTF-8 at byte {exc.start}") from None
        _check_depth(text)
        duplicates: dict[int, str] = {}

        def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            obj = dict(pairs)  # last value wins, as serde_json's map (settings) does
            if len(obj) != len(pairs):
                duplicates[id(obj)] = _first_duplicate(pairs) or ""
            return obj

        try:
            obj = json.loads(text, object_pairs_hook=pairs_hook)
        except json.JSONDecodeError as exc:
            raise TenantContextFormatError(exc.msg, line=exc.lineno, column=exc.colno) from None
        except RecursionError:  # unreachable after _check_depth; kept as the typed answer anyway
            raise TenantContextFormatError("recursion limit exceeded") from None
        if not isinstance(obj, dict):
            raise TenantContextFormatError(f"invalid type: {type(obj).__name__}, expected struct TenantContext")
        duplicate = duplicates.get(id(obj))
        if duplicate is not None:
            raise TenantContextFormatError(f"duplicate field `{duplicate}`", key=duplicate)
        for name in _FIELDS:
            if name not in obj:
                raise TenantContextFormatError(f"missing field `{name}`", key=name)
        try:
            return cls(id=uuid.UUID(obj["id"]), name=obj["name"], slug=obj["slug"],
                       domain=obj["domain"], settings=obj["settings"], is_active=obj["is_active"])
        except (TypeError, ValueError, AttributeError) as exc:
            raise TenantContextFormatError(f"invalid tenant context: {exc}") from None
