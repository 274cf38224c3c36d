"""Database plumbing for the outbox, relay and read model: engines, column types, clock time.

- **Engines.** `make_engine(url)` gives SQLite in memory by default (one shared connection, so
  every session sees the same database) or whatever SQLAlchemy URL is given (a SQLite file,
  ``postgresql+psycopg://...``). The shared in-memory connection belongs to the thread that made
  the engine: sqlite3 connections are not safe to share (several threads publishing through one
  once crashed the interpreter and lost rows it had reported written), so another thread gets a
  `SharedConnectionThreadError` at once instead; use a SQLite file or PostgreSQL for threads. It connects once, so a bad URL or an unreachable server is one
  typed error line (`DatabaseUrlError`, `DatabaseUnavailableError`) instead of a traceback from
  deep inside the driver. With `schema=...` (PostgreSQL) every statement is mapped into that
  schema through ``schema_translate_map``, which is how parallel test runs keep apart.
- **Transactions on SQLite.** pysqlite's legacy mode defers BEGIN until the first write, so a
  SELECT-then-UPDATE claim would not be one transaction. The engine emits BEGIN itself, as
  ``BEGIN IMMEDIATE``: a deferred transaction that later writes must upgrade its lock, and SQLite
  fails that upgrade at once with "database is locked" whatever the busy timeout (concurrent
  relays hit it 14 times in one run, each stranding the rest of a claimed batch). Taking the
  write lock up front makes a second writer wait for the busy timeout instead.
- **Time.** Rust stamps rows with `Utc::now()`; here the time is ``epoch + clock()`` (seconds), as a
  timezone-aware UTC datetime (the model's stores count whole microseconds of virtual time:
  `micros_datetime` / `datetime_micros` map them exactly), so virtual time drives ``created_at``, ``claimed_at`` and
  ``next_attempt_at`` and the database server's clock is never read. `UtcDateTime` stores it as
  ``timestamptz`` on PostgreSQL and as naive UTC text on SQLite (which has no time zones; the
  fixed-width ISO text compares in time order) and always reads back an aware UTC datetime.
- **Missing tables.** A statement on a table nobody created (``create_schema()`` forgotten) raises
  `MissingTableError` naming the table and the call that creates it, instead of the driver's
  error with the statement dumped under it. `watch_for_missing_tables(engine)` installs that
  translation; `make_engine` and every store of this package call it on their engine.
- **Payload.** `JsonPayload` is ``jsonb`` on PostgreSQL and JSON text on SQLite. Reading never
  raises: text that is not JSON comes back as an `UnparsablePayload` (the model's), so the relay
  can report the row's id instead of failing inside the SELECT.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, Text, create_engine, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from rustok_sim.model.core.clock import Clock
from rustok_sim.model.events.outbox import UnparsablePayload

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_URL = "sqlite+pysqlite:///:memory:"
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
"""A schema name `make_engine` creates and `drop_schema` drops; always used with ``fullmatch``
(``$`` would accept a trailing newline, and a schema with a newline in its name was created)."""

__all__ = ["EPOCH", "DEFAULT_URL", "DatabaseUrlError", "DatabaseUnavailableError", "SharedConnectionThreadError",
           "MissingTableError", "watch_for_missing_tables",
           "UtcDateTime", "JsonPayload", "UnparsablePayload", "clock_datetime", "datetime_seconds",
           "micros_datetime", "datetime_micros", "display_url", "new_schema_name", "make_engine", "drop_schema",
           "short_reason", "valid_schema_name", "OwnerThreadStaticPool"]
_URL_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class DatabaseUrlError(ValueError):
    """The database URL cannot be used at all (unparsable, unknown dialect or driver missing)."""

    def __init__(self, url: str, reason: str) -> None:
        self.url, self.reason = url, reason
        super().__init__(f"invalid database URL {url!r}: {reason}")


class DatabaseUnavailableError(ConnectionError):
    """The database did not accept a connection. ``str()`` is one line:
    ``cannot connect to <url without password>: <reason>``."""

    def __init__(self, url: str, reason: str) -> None:
        self.url, self.reason = url, reason
        super().__init__(f"cannot connect to {url}: {reason}")


class SharedConnectionThreadError(RuntimeError):
    """The default in-memory SQLite engine (one shared connection) was used from a thread other
    than the one that made it."""

    def __init__(self, owner: str, current: str) -> None:
        self.owner, self.current = owner, current
        super().__init__(f"the in-memory SQLite engine is one shared connection, usable only from the thread "
                         f"that made it ({owner}); used from {current}. For several threads use a SQLite "
                         f"file URL or PostgreSQL, one engine per thread")


class MissingTableError(SQLAlchemyError):
    """A statement used a table that does not exist in the database: its schema was never
    created. ``str()`` names the table and the call that creates it; the driver's error is the
    ``__cause__``. A `SQLAlchemyError`, so whoever turns database errors into its own (the read
    model's `ExternalError`, the tenant store's `TenantDatabaseError`) still does, with this text."""

    def __init__(self, table: str, fix: str) -> None:
        self.table, self.fix = table, fix
        super().__init__(f"table {table!r} does not exist: {fix}")


_MISSING_TABLE = (re.compile(r"no such table: ([\w.\"]+)"),  # SQLite
                  re.compile(r'relation "([^"]+)" does not exist'))  # PostgreSQL (42P01)
_OUTBOX_FIX = ("call create_schema() first (SqlOutboxStore.create_schema(), OutboxTransport.create_schema() "
               "or create_outbox_schema(engine))")
_READ_MODEL_FIX = ("call create_schema() first (ReadModelConsumer.create_schema() or "
                   "create_read_model_schema(engine))")
_SCHEMA_FIXES = {"sys_events": _OUTBOX_FIX, "sys_event_inbox": _READ_MODEL_FIX,
                 "read_model_events": _READ_MODEL_FIX, "read_model_counters": _READ_MODEL_FIX,
                 "tenants": "TenantStore(...) creates it when built; build the store on this engine first"}


def missing_table(exc: BaseException) -> MissingTableError | None:
    """The `MissingTableError` a driver error stands for, or None if it is about something else."""
    inner = getattr(exc, "orig", None) or exc
    message = str(inner)
    for pattern in _MISSING_TABLE:
        match = pattern.search(message)
        if match:
            table = match.group(1).strip('"').rsplit(".", 1)[-1]
            return MissingTableError(table, _SCHEMA_FIXES.get(table, "call create_schema() first"))
    return None


def _raise_missing_table(context: Any) -> None:
    error = missing_table(context.original_exception)
    if error is not None:
        raise error from context.original_exception


def watch_for_missing_tables(engine: Engine) -> Engine:
    """Make statements on `engine` that hit a missing table raise `MissingTableError` (once per
    engine; idempotent). Returns the engine."""
    if not event.contains(engine, "handle_error", _raise_missing_table):
        event.listen(engine, "handle_error", _raise_missing_table)
    return engine


def short_reason(exc: BaseException) -> str:
    """The first meaningful line of a driver error, lower-cased for the common cases
    ("connection refused", "could not translate host name ...")."""
    inner = getattr(exc, "orig", None) or exc
    message = " ".join(str(inner).split("\n")[0].split())
    lowered = message.lower()
    if "connection refused" in lowered:
        return "connection refused"
    if "does not exist" in lowered and "database" in lowered:
        match = re.search(r'database "([^"]+)" does not exist', message)
        return f"database {match.group(1)!r} does not exist" if match else message
    if "password authentication failed" in lowered:
        return "password authentication failed"
    if "timeout" in lowered or "timed out" in lowered:
        return "connection timed out"
    return message or type(inner).__name__


# --------------------------------------------------------------------------------------------
# Column types
# --------------------------------------------------------------------------------------------


class UtcDateTime(TypeDecorator[datetime]):
    """Rust `DateTimeWithTimeZone` (UTC): aware datetimes in, aware UTC datetimes out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: outbox times must be timezone-aware UTC")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JsonPayload(TypeDecorator[Any]):
    """``jsonb`` on PostgreSQL (Rust `json_binary`), JSON text elsewhere; reading never raises."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if dialect.name == "postgresql" or value is None:
            return value
        if isinstance(value, UnparsablePayload):
            return value.raw
        return json.dumps(value, separators=(",", ":"))

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if dialect.name == "postgresql" or value is None or not isinstance(value, (str, bytes)):
            return value
        try:
            return json.loads(value)
        except ValueError as exc:
            return UnparsablePayload(value if isinstance(value, str) else value.decode("utf-8", "replace"),
                                     str(exc))


# --------------------------------------------------------------------------------------------
# Clock time
# --------------------------------------------------------------------------------------------


def clock_datetime(clock: Clock, epoch: float = 0.0) -> datetime:
    """``epoch + clock()`` seconds as an aware UTC datetime, rounded to microseconds (the
    resolution both databases keep), consistent with `IdGenerator.now()`."""
    return EPOCH + timedelta(microseconds=round((epoch + clock()) * 1_000_000))


def datetime_seconds(value: datetime, epoch: float = 0.0) -> float:
    """Inverse of `clock_datetime`: clock seconds of an aware datetime."""
    return (value - EPOCH).total_seconds() - epoch


_MICROSECOND = timedelta(microseconds=1)


def micros_datetime(micros: int, epoch_us: int = 0) -> datetime:
    """Virtual microseconds (the model's row times) as an aware UTC datetime, ``epoch_us`` after
    the Unix epoch. Exact both ways with `datetime_micros`."""
    return EPOCH + timedelta(microseconds=epoch_us + micros)


def datetime_micros(value: datetime, epoch_us: int = 0) -> int:
    """Inverse of `micros_datetime`."""
    return (value - EPOCH) // _MICROSECOND - epoch_us


# --------------------------------------------------------------------------------------------
# Engines
# --------------------------------------------------------------------------------------------


def display_url(url: str) -> str:
    """The URL with any password masked (safe for messages and logs), even when SQLAlchemy
    cannot parse it (e.g. a port that is not a number)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return _URL_PASSWORD.sub(r"\1***@", url)


def valid_schema_name(name: object) -> bool:
    """Whether `name` is a schema name `make_engine` would create (the whole string matches)."""
    return isinstance(name, str) and _SCHEMA_NAME.fullmatch(name) is not None


SQLITE_BUSY_TIMEOUT_S = 30.0
"""How long a SQLite connection waits for the write lock before "database is locked"."""


def new_schema_name(prefix: str = "rustok_sim") -> str:
    """A fresh PostgreSQL schema name (lower case, <= 63 chars) for one test or run."""
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def make_engine(url: str | None = None, *, schema: str | None = None, echo: bool = False,
                probe: bool = True, **engine_kwargs: Any) -> Engine:
    """An engine for `url` (default: SQLite in memory, shared by every session of the engine).

    `schema` (PostgreSQL only): create it if missing and map every table into it. `probe`
    connects once so that a bad URL or unreachable server fails here, as `DatabaseUrlError` or
    `DatabaseUnavailableError`, with one readable line.
    """
    raw = url or DEFAULT_URL
    shown = display_url(raw)
    try:
        parsed = make_url(raw)
    except ArgumentError as exc:
        raise DatabaseUrlError(shown, str(exc).split("\n")[0]) from None
    except ValueError as exc:  # SQLAlchemy's int(port) on a port that is not a number
        raise DatabaseUrlError(shown, f"the port is not a number ({exc})") from None
    kwargs: dict[str, Any] = dict(echo=echo, **engine_kwargs)
    if parsed.get_backend_name() == "sqlite":
        connect_args = kwargs.setdefault("connect_args", {})
        connect_args["check_same_thread"] = False
        # Writers queue on SQLite's one write lock. pysqlite's default 5 s busy timeout was seen
        # to run out for four relays on one file on a loaded 2-core machine (CI); waiting
        # longer is what a relay should do, failing strands its claimed batch.
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_S)
        if parsed.database in (None, "", ":memory:"):
            # One connection for everyone: an in-memory database exists per connection.
            kwargs.setdefault("poolclass", OwnerThreadStaticPool)
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ArgumentError, ImportError) as exc:
        raise DatabaseUrlError(shown, short_reason(exc)) from None
    if engine.dialect.name == "sqlite":
        _use_explicit_begin(engine)
    watch_for_missing_tables(engine)
    if schema is not None:
        if engine.dialect.name != "postgresql":
            raise DatabaseUrlError(shown, f"schema {schema!r} given, but schemas need PostgreSQL")
        if not valid_schema_name(schema):
            raise DatabaseUrlError(shown, f"schema name {schema!r} must match {_SCHEMA_NAME.pattern}")
    if probe or schema is not None:
        try:
            with engine.begin() as conn:
                if schema is not None:
                    conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                else:
                    conn.execute(text("SELECT 1"))
        except (DBAPIError, SQLAlchemyError, OSError) as exc:
            engine.dispose()
            raise DatabaseUnavailableError(shown, short_reason(exc)) from None
    if schema is not None:
        engine = engine.execution_options(schema_translate_map={None: schema})
    return engine


def drop_schema(engine: Engine, schema: str) -> None:
    """Drop a schema made by `make_engine(schema=...)` and everything in it."""
    if not valid_schema_name(schema):
        raise ValueError(f"refusing to drop schema {schema!r}: not a name make_engine would create")
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def _use_explicit_begin(engine: Engine) -> None:
    # pysqlite would start the transaction only at the first write, which breaks the claim's
    # select-then-update and SAVEPOINTs; take over BEGIN as the SQLAlchemy docs recommend, and take
    # the write lock up front (see the module docstring: a deferred BEGIN's lock upgrade fails at
    # once, ignoring the busy timeout).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class OwnerThreadStaticPool(StaticPool):
    """StaticPool (one connection for everyone, which an in-memory database needs) that hands the
    connection only to the thread that made the pool. The check runs before a connection is handed
    out, so a refused thread never touches it (refusing later, in a checkout listener, makes
    SQLAlchemy invalidate the connection, and the in-memory database with it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._owner = threading.current_thread()

    def _do_get(self) -> Any:
        current = threading.current_thread()
        if current is not self._owner:
            raise SharedConnectionThreadError(self._owner.name, current.name)
        return super()._do_get()
