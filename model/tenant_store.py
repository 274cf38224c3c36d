"""The tenants table on SQLAlchemy, and the tenant record the resolvers cache.

`TenantStore` is the database the resolvers' loaders read (spec §6.2: by id, by
``tenants.slug = value``, by ``tenants.domain = value``, exact equality). SQLite in memory by
default; any SQLAlchemy URL (PostgreSQL) works. It is a live adapter: it does I/O, so the
resolver never calls it. A driver takes the resolver's load ticket, calls `find(key)` here and
hands the result to ``resolver.complete(ticket, ...)``: the context, None (not found) or the
`TenantDatabaseError` this store raised.

Errors mirror Rust's `TenantError` of ``tenant_v2.rs``: `TenantNotFoundError` ("Tenant not
found"), `TenantDatabaseError` ("Database error: ...").
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import JSON, Boolean, Column, MetaData, String, Table, Uuid, create_engine, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from model.tenant_keys import IdentifierKind, TenantKey, alias_keys

__all__ = [
    "DEFAULT_URL",
    "TenantContext",
    "TenantDatabaseError",
    "TenantError",
    "TenantNotFoundError",
    "TenantStore",
    "metadata",
    "tenants",
]

DEFAULT_URL = "sqlite+pysqlite:///:memory:"

metadata = MetaData()

tenants = Table(
    "tenants",
    metadata,
    Column("id", Uuid(as_uuid=True), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("slug", String(64), nullable=False, unique=True),
    Column("domain", String(253), nullable=True, unique=True),
    Column("settings", JSON, nullable=False),
    Column("is_active", Boolean, nullable=False),
)
"""The columns the resolvers use (id, name, slug, domain, settings, is_active)."""


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


def _row_to_context(row: Any) -> TenantContext:
    return TenantContext(id=row.id, name=row.name, slug=row.slug, domain=row.domain,
                         settings=dict(row.settings or {}), is_active=bool(row.is_active))


class TenantStore:
    """The tenants table. `url` is a SQLAlchemy URL (SQLite in memory by default), or pass an
    existing `engine`. The table is created if missing.

    Every database failure is raised as `TenantDatabaseError` (the SQLAlchemy error is its
    cause); a missing tenant is None from the `find*` methods.
    """

    def __init__(self, url: str = DEFAULT_URL, *, engine: Engine | None = None) -> None:
        if engine is None:
            if url.startswith("sqlite") and (":memory:" in url or url.rstrip("/").endswith("sqlite:")):
                # One shared connection, or every new connection would see an empty database.
                engine = create_engine(url, poolclass=StaticPool,
                                       connect_args={"check_same_thread": False})
            else:
                engine = create_engine(url)
        self.engine = engine
        self._run(lambda conn: metadata.create_all(conn))

    def _run(self, fn: Any) -> Any:
        try:
            with self.engine.begin() as conn:
                return fn(conn)
        except SQLAlchemyError as exc:
            raise TenantDatabaseError(str(exc).splitlines()[0]) from exc

    # -- writing ----------------------------------------------------------------------------------

    def create(self, name: str, slug: str, domain: str | None = None,
               settings: dict[str, Any] | None = None, is_active: bool = True,
               id: uuid.UUID | None = None) -> TenantContext:
        """Insert a tenant and return it. A duplicate id, slug or domain is a TenantDatabaseError."""
        ctx = TenantContext(id=id or uuid.uuid4(), name=name, slug=slug, domain=domain,
                            settings=dict(settings or {}), is_active=is_active)
        self._run(lambda conn: conn.execute(insert(tenants).values(
            id=ctx.id, name=ctx.name, slug=ctx.slug, domain=ctx.domain,
            settings=ctx.settings, is_active=ctx.is_active)))
        return ctx

    def update(self, tenant_id: uuid.UUID, **changes: Any) -> TenantContext:
        """Change columns of a tenant and return the new record; TenantNotFoundError if absent."""
        unknown = set(changes) - {"name", "slug", "domain", "settings", "is_active"}
        if unknown:
            raise ValueError(f"tenants has no updatable column(s) {sorted(unknown)}")

        def run(conn: Any) -> int:
            return conn.execute(update(tenants).where(tenants.c.id == tenant_id).values(**changes)).rowcount

        if self._run(run) == 0:
            raise TenantNotFoundError(TenantKey.uuid(tenant_id))
        found = self.find_by_id(tenant_id)
        assert found is not None
        return found

    def delete(self, tenant_id: uuid.UUID) -> bool:
        """Delete a tenant; True if a row was deleted."""
        return self._run(lambda conn: conn.execute(
            delete(tenants).where(tenants.c.id == tenant_id)).rowcount) > 0

    # -- reading (what the loaders call) ----------------------------------------------------------

    def _one(self, condition: Any) -> TenantContext | None:
        row = self._run(lambda conn: conn.execute(select(tenants).where(condition)).first())
        return None if row is None else _row_to_context(row)

    def find_by_id(self, tenant_id: uuid.UUID) -> TenantContext | None:
        return self._one(tenants.c.id == tenant_id)

    def find_by_slug(self, slug: str) -> TenantContext | None:
        return self._one(tenants.c.slug == slug)

    def find_by_domain(self, domain: str) -> TenantContext | None:
        return self._one(tenants.c.domain == domain)

    def find(self, key: TenantKey) -> TenantContext | None:
        """The loader query for a key: by id, slug or domain (exact equality). The active flag is
        not checked, as in V1: an inactive tenant still resolves."""
        if key.kind is IdentifierKind.UUID:
            return self.find_by_id(uuid.UUID(key.value))
        if key.kind is IdentifierKind.SLUG:
            return self.find_by_slug(key.value)
        return self.find_by_domain(key.value)

    def all(self) -> list[TenantContext]:
        rows = self._run(lambda conn: conn.execute(select(tenants).order_by(tenants.c.slug)).all())
        return [_row_to_context(r) for r in rows]
