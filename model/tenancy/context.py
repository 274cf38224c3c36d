"""The tenant a request runs as (Rust `TenantContext`) and the tenant errors the resolvers raise.

Errors mirror Rust's `TenantError` of ``tenant_v2.rs``: `TenantNotFoundError` ("Tenant not
found"), `TenantDatabaseError` ("Database error: ..."). A store adapter (SQL, in memory) raises
`TenantDatabaseError` for its own failures; the resolver caches neither.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from rustok_sim.model.tenancy.keys import TenantKey, alias_keys

__all__ = ["TenantContext", "TenantDatabaseError", "TenantError", "TenantNotFoundError"]


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


@dataclass(frozen=True, slots=True)
class TenantContext:
    """A tenant as the middleware attaches it to a request (Rust `TenantContext`).

    `settings` is a JSON object. The record is immutable; `with_changes` makes an edited copy.
    """

    id: uuid.UUID
    name: str
    slug: str
    domain: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    is_active: bool = True

    def aliases(self) -> tuple[TenantKey, ...]:
        """The keys this tenant can be looked up by (uuid, slug, and host if it has a domain)."""
        return alias_keys(self.id, self.slug, self.domain)

    def with_changes(self, **changes: Any) -> TenantContext:
        return replace(self, **changes)

    def to_json(self) -> bytes:
        """The bytes V1 stores in its positive cache (serde_json of the context: compact, fields
        in struct order, non-ASCII text as raw UTF-8 rather than ``\\u`` escapes)."""
        return json.dumps({"id": str(self.id), "name": self.name, "slug": self.slug,
                           "domain": self.domain, "settings": self.settings,
                           "is_active": self.is_active}, separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> TenantContext:
        """Parse `to_json` output; raises ValueError (or a subclass) on anything else."""
        obj = json.loads(data)
        if not isinstance(obj, dict):
            raise ValueError(f"tenant context must be a JSON object, got {type(obj).__name__}")
        try:
            ctx = cls(id=uuid.UUID(obj["id"]), name=obj["name"], slug=obj["slug"],
                      domain=obj["domain"], settings=obj["settings"], is_active=obj["is_active"])
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"tenant context is missing or mistypes a field: {exc}") from None
        if not (isinstance(ctx.name, str) and isinstance(ctx.slug, str)
                and isinstance(ctx.settings, dict) and isinstance(ctx.is_active, bool)
                and (ctx.domain is None or isinstance(ctx.domain, str))):
            raise ValueError("tenant context has a field of the wrong type")
        return ctx
