"""The tenants table on SQLAlchemy, and the tenant record the resolvers cache.

`TenantStore` is the database the resolvers' loaders read (spec §6.2: by id, by
``tenants.slug = value``, by ``tenants.domain = value``, exact equality). SQLite in memory by
default; any SQLAlchemy URL (PostgreSQL) works. It is a live adapter: it does I/O, so the
resolver never calls it. A driver takes the resolver's load ticket, calls `find(key)` here and
hands the result to ``resolver.complete(ticket, ...)``: the context, None (not found) or the
`TenantDatabaseError` this store raised.

`TenantContext` and the tenant errors (`TenantNotFoundError`, `TenantDatabaseError`) are the
model's (`rustok_sim.model.tenancy.context`); this adapter only maps rows to them.

Ids. A tenant created without an id gets one from the store's seeded generator
(``random.Random(seed)``, version-4 layout), never from `uuid4()`: the same seed gives the same
tenants, so (config, seed) fixes a scenario's trace. Stores writing to one shared database need
distinct seeds (or explicit ids), or their ids collide (a `TenantDatabaseError`).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    MetaData,
    String,
    Table,
    Uuid,
    create_engine,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from rustok_sim.adapters.sql.db import watch_for_missing_tables
from rustok_sim.model.tenancy.context import TenantContext, TenantDatabaseError, TenantNotFoundError
from rustok_sim.model.tenancy.keys import IdentifierKind, TenantKey

__all__ = [
    "DEFAULT_URL",
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


def _row_to_context(row: Any) -> TenantContext:
    return TenantContext(id=row.id, name=row.name, slug=row.slug, domain=row.domain,
                         settings=dict(row.settings or {}), is_active=bool(row.is_active))


class TenantStore:
    """The tenants table. `url` is a SQLAlchemy URL (SQLite in memory by default), or pass an
    existing `engine`. The table is created if missing.

    Every database failure is raised as `TenantDatabaseError` (the SQLAlchemy error is its
    cause); a missing tenant is None from the `find*` methods. `seed` seeds the ids `create`
    gives tenants created without one.
    """

    def __init__(self, url: str = DEFAULT_URL, *, engine: Engine | None = None, seed: int = 0) -> None:
        if not isinstance(url, str):
            raise TypeError(f"TenantStore url must be a SQLAlchemy URL string, got {type(url).__name__}")
        if engine is not None and not isinstance(engine, Engine):
            raise TypeError(f"TenantStore engine= must be a sqlalchemy Engine, got {type(engine).__name__}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"TenantStore seed must be an int, got {type(seed).__name__} {seed!r}")
        rng = random.Random(seed)
        self._new_id: Callable[[], uuid.UUID] = lambda: uuid.UUID(int=rng.getrandbits(128), version=4)
        if engine is None:
            if url.startswith("sqlite") and (":memory:" in url or url.rstrip("/").endswith("sqlite:")):
                # One shared connection, or every new connection would see an empty database.
                engine = create_engine(url, poolclass=StaticPool,
                                       connect_args={"check_same_thread": False})
            else:
                engine = create_engine(url)
        self.engine = watch_for_missing_tables(engine)
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
        """Insert a tenant and return it (without `id`: the next seeded id). A duplicate id, slug
        or domain is a TenantDatabaseError; a field of the wrong type a TypeError."""
        ctx = TenantContext(id=self._new_id() if id is None else id, name=name, slug=slug, domain=domain,
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
        if not isinstance(key, TenantKey):
            raise TypeError(f"TenantStore.find needs a TenantKey, got {type(key).__name__} {key!r:.60}")
        if key.kind is IdentifierKind.UUID:
            return self.find_by_id(uuid.UUID(key.value))
        if key.kind is IdentifierKind.SLUG:
            return self.find_by_slug(key.value)
        return self.find_by_domain(key.value)

    def all(self) -> list[TenantContext]:
        rows = self._run(lambda conn: conn.execute(select(tenants).order_by(tenants.c.slug)).all())
        return [_row_to_context(r) for r in rows]
