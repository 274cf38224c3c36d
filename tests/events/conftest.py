"""Shared fixtures for the events tests."""

# --------------------------------------------------------------------------------------------
# Database fixtures for the outbox, relay, transactional bus and read-model tests.
# `db_engine` runs a test on SQLite (in memory) and on PostgreSQL (marked `postgres`; skipped
# without RUSTOK_SIM_DATABASE_URL). Each PostgreSQL test gets its own schema, dropped afterwards,
# so parallel runs against one server never see each other's rows.
# --------------------------------------------------------------------------------------------

import pytest as _pytest


@_pytest.fixture(params=["sqlite", _pytest.param("postgresql", marks=_pytest.mark.postgres)])
def db_engine(request):
    """An engine with a fresh, empty database: SQLite in memory, or a new PostgreSQL schema."""
    from rustok_sim.adapters.sql.db import drop_schema, make_engine, new_schema_name

    if request.param == "sqlite":
        engine = make_engine()
        yield engine
        engine.dispose()
        return
    url = request.getfixturevalue("database_url")
    schema = new_schema_name("rustok_sim_test")
    engine = make_engine(url, schema=schema)
    try:
        yield engine
    finally:
        drop_schema(engine, schema)
        engine.dispose()


@_pytest.fixture
def pg_schema(database_url):
    """(url, schema) of a fresh PostgreSQL schema, for tests that need several engines
    (one per thread or per relay) on the same tables. Dropped afterwards."""
    from rustok_sim.adapters.sql.db import drop_schema, make_engine, new_schema_name

    schema = new_schema_name("rustok_sim_test")
    admin = make_engine(database_url, schema=schema)
    try:
        yield database_url, schema
    finally:
        drop_schema(admin, schema)
        admin.dispose()
