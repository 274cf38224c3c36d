"""The sys_events table, OutboxTransport and the engine helpers (spec §3.5), on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, select

from rustok_sim.adapters.sql.db import (
    DatabaseUnavailableError,
    DatabaseUrlError,
    MissingTableError,
    UtcDateTime,
    clock_datetime,
    datetime_seconds,
    drop_schema,
    make_engine,
    new_schema_name,
)
from rustok_sim.adapters.sql.outbox import (
    OutboxTransport,
    SysEventStatus,
    count_rows,
    create_outbox_schema,
    fetch_row,
    fetch_rows,
    sys_events,
)
from rustok_sim.model.core.clock import ManualClock
from rustok_sim.model.events.bus import NotFoundError, ReliabilityLevel
from rustok_sim.model.events.domain import NodeCreated
from rustok_sim.model.events.envelope import EventEnvelope
from rustok_sim.model.events.ids import IdGenerator

TENANT = uuid.UUID("11111111-1111-1111-1111-111111111111")
EPOCH_2026 = 1_770_000_000.0  # 2026-02-02, so stored dates look real


@pytest.fixture
def setup(db_engine):
    clock = ManualClock(5.0)
    transport = OutboxTransport(db_engine, clock=clock, epoch=EPOCH_2026)
    transport.create_schema()
    ids = IdGenerator(clock, seed=11, epoch=EPOCH_2026)
    return db_engine, clock, transport, ids


def envelope(ids: IdGenerator) -> EventEnvelope:
    return EventEnvelope.new(TENANT, None, NodeCreated(node_id=uuid.uuid4(), kind="post"), ids=ids)


# -- table shape -------------------------------------------------------------------------------


def test_table_has_the_migration_columns_and_indexes(setup):
    engine = setup[0]
    inspector = inspect(engine)
    schema = (engine.get_execution_options().get("schema_translate_map") or {}).get(None)
    columns = {c["name"]: c for c in inspector.get_columns("sys_events", schema=schema)}
    assert list(columns) == ["id", "event_type", "schema_version", "payload", "status", "retry_count",
                             "next_attempt_at", "last_error", "claimed_by", "claimed_at", "created_at",
                             "dispatched_at"]
    nullable = {name for name, c in columns.items() if c["nullable"]}
    assert nullable == {"next_attempt_at", "last_error", "claimed_by", "claimed_at", "dispatched_at"}
    assert columns["event_type"]["type"].length == 255
    assert columns["status"]["type"].length == 32
    assert columns["last_error"]["type"].length == 2048
    assert columns["claimed_by"]["type"].length == 128
    indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes("sys_events", schema=schema)}
    assert indexes == {"idx_sys_events_pending_next_attempt": ["status", "next_attempt_at"],
                       "idx_sys_events_claimed_at": ["claimed_at"]}
    assert inspector.get_pk_constraint("sys_events", schema=schema)["constrained_columns"] == ["id"]
    if engine.dialect.name == "postgresql":
        assert type(columns["payload"]["type"]).__name__ == "JSONB"
        assert columns["created_at"]["type"].timezone is True
        assert type(columns["id"]["type"]).__name__ == "UUID"


def test_schema_creation_is_idempotent_like_if_not_exists(setup):
    engine = setup[0]
    create_outbox_schema(engine)
    create_outbox_schema(engine)
    assert count_rows(engine) == 0


# -- OutboxTransport ----------------------------------------------------------------------------


def test_publish_inserts_one_pending_row_with_clock_time(setup):
    engine, clock, transport, ids = setup
    env = envelope(ids)
    transport.publish(env)
    row = fetch_row(engine, env.id)
    assert row["status"] == SysEventStatus.PENDING and row["retry_count"] == 0
    assert all(row[name] is None for name in ("next_attempt_at", "last_error", "claimed_by",
                                              "claimed_at", "dispatched_at"))
    assert row["created_at"] == datetime.fromtimestamp(EPOCH_2026 + 5.0, UTC)
    assert row["event_type"] == "node.created" and row["schema_version"] == 1
    assert EventEnvelope.from_json(row["payload"]) == env
    assert row["payload"]["event"] == {"type": "NodeCreated", "data": env.event.to_json_dict()["data"]}
    assert transport.reliability_level() is ReliabilityLevel.OUTBOX


def test_publish_batch_writes_each_row(setup):
    engine, _, transport, ids = setup
    transport.publish_batch([envelope(ids) for _ in range(3)])
    assert count_rows(engine, "pending") == 3


def test_acknowledge_marks_dispatched_and_clears_the_claim(setup):
    engine, clock, transport, ids = setup
    env = envelope(ids)
    transport.publish(env)
    with engine.begin() as conn:
        conn.execute(sys_events.update().values(claimed_by="w", claimed_at=clock_datetime(clock),
                                                last_error="earlier"))
    clock.advance(2.5)
    transport.acknowledge(env.id)
    row = fetch_row(engine, env.id)
    assert row["status"] == "dispatched"
    assert row["dispatched_at"] == datetime.fromtimestamp(EPOCH_2026 + 7.5, UTC)
    assert (row["claimed_by"], row["claimed_at"], row["last_error"]) == (None, None, None)


def test_acknowledge_of_a_missing_row_is_not_found(setup):
    _, _, transport, _ = setup
    missing = uuid.UUID("00000000-0000-0000-0000-000000000042")
    with pytest.raises(NotFoundError) as caught:
        transport.acknowledge(missing)
    assert str(caught.value) == f"Not found: sys_event {missing}"


# -- time --------------------------------------------------------------------------------------


def test_clock_datetimes_round_trip_as_aware_utc(setup):
    engine, clock, transport, ids = setup
    clock.set(1234.567891)
    env = envelope(ids)
    transport.publish(env)
    stored = fetch_row(engine, env.id)["created_at"]
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert datetime_seconds(stored, EPOCH_2026) == pytest.approx(1234.567891, abs=1e-6)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        UtcDateTime().process_bind_param(datetime(2026, 1, 1), make_engine().dialect)


def test_time_comparisons_order_correctly_in_the_database(setup):
    engine, clock, transport, ids = setup
    for seconds in (9.5, 10.0, 100.0, 1000.25):
        clock.set(seconds)
        transport.publish(envelope(ids))
    cutoff = clock_datetime(lambda: 100.0, EPOCH_2026)
    with engine.connect() as conn:
        early = conn.execute(select(sys_events.c.id).where(sys_events.c.created_at <= cutoff)).all()
    assert len(early) == 3


# -- engines and bad input ------------------------------------------------------------------------


def test_default_engine_is_one_shared_sqlite_memory_database():
    engine = make_engine()
    create_outbox_schema(engine)
    with engine.connect() as first, engine.connect() as second:
        assert first.connection.dbapi_connection is second.connection.dbapi_connection
    assert engine.dialect.name == "sqlite"


def test_sqlite_file_url_works(tmp_path):
    url = f"sqlite+pysqlite:///{tmp_path / 'outbox.db'}"
    engine = make_engine(url)
    transport = OutboxTransport(engine, clock=ManualClock())
    transport.create_schema()
    transport.publish(envelope(IdGenerator(ManualClock(), seed=1)))
    engine.dispose()
    assert count_rows(make_engine(url)) == 1


def test_unparsable_url_is_one_typed_line():
    with pytest.raises(DatabaseUrlError) as caught:
        make_engine("this is not a url")
    assert str(caught.value).startswith("invalid database URL 'this is not a url': ")
    assert "\n" not in str(caught.value)


def test_unknown_dialect_is_a_url_error():
    with pytest.raises(DatabaseUrlError, match="invalid database URL 'nosuchdb://x/y': "):
        make_engine("nosuchdb://x/y")


def test_unreachable_postgresql_is_one_line_connection_refused():
    url = "postgresql+psycopg://postgres:secret@127.0.0.1:1/test"
    with pytest.raises(DatabaseUnavailableError) as caught:
        make_engine(url)
    assert str(caught.value) == "cannot connect to postgresql+psycopg://postgres:***@127.0.0.1:1/test: connection refused"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_schema_needs_postgresql():
    with pytest.raises(DatabaseUrlError, match="schemas need PostgreSQL"):
        make_engine(schema="abc")


@pytest.mark.postgres
def test_missing_database_is_a_clear_line(database_url):
    from sqlalchemy.engine import make_url

    url = make_url(database_url).set(database="rustok_sim_no_such_db").render_as_string(hide_password=False)
    with pytest.raises(DatabaseUnavailableError, match="database 'rustok_sim_no_such_db' does not exist"):
        make_engine(url)


@pytest.mark.postgres
def test_each_schema_is_its_own_outbox(database_url):
    schemas = [new_schema_name("rustok_sim_test") for _ in range(2)]
    engines = [make_engine(database_url, schema=name) for name in schemas]
    try:
        for engine in engines:
            create_outbox_schema(engine)
        OutboxTransport(engines[0], clock=ManualClock()).publish(envelope(IdGenerator(ManualClock(), seed=2)))
        assert [count_rows(engine) for engine in engines] == [1, 0]
    finally:
        for engine, name in zip(engines, schemas):
            drop_schema(engine, name)
            engine.dispose()


# -- defects found under faults and bad input (issue 7, section 8) ----------------------------------


def test_sqlite_writers_take_the_write_lock_up_front(tmp_path):
    """A deferred BEGIN upgraded to a write fails at once with "database is locked" whatever the
    busy timeout; every transaction the engine starts is BEGIN IMMEDIATE instead."""
    from sqlalchemy import event

    engine = make_engine(f"sqlite+pysqlite:///{tmp_path / 'outbox.db'}")
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda conn, cursor, sql, *rest: statements.append(sql))
    transport = OutboxTransport(engine, clock=ManualClock())
    transport.create_schema()
    transport.publish(envelope(IdGenerator(ManualClock(), seed=3)))
    begins = [sql for sql in statements if sql.upper().startswith("BEGIN")]
    assert begins and set(begins) == {"BEGIN IMMEDIATE"}
    engine.dispose()


@pytest.mark.parametrize("variant", ["faithful", "hardened"])
def test_concurrent_relays_on_one_sqlite_file_never_fail_on_the_lock(tmp_path, variant):
    """Four relays in four threads, each with its own engine on one SQLite file: with deferred
    BEGINs one run saw 14 "database is locked" errors, each stranding a claimed batch (the
    faithful completion reads the row, then writes it: the lock upgrade that fails at once)."""
    import threading

    from rustok_sim.adapters.sql.relay import OutboxRelay, RelayConfig

    url = f"sqlite+pysqlite:///{tmp_path / 'relays.db'}"
    writer = make_engine(url)
    transport = OutboxTransport(writer, clock=ManualClock())
    transport.create_schema()
    ids = IdGenerator(ManualClock(), seed=4)
    transport.publish_batch([envelope(ids) for _ in range(400)])
    published: list[uuid.UUID] = []
    errors: list[BaseException] = []
    guard = threading.Lock()

    class Sink:  # a whole EventTransport: the relay checks its target's surface when it is built
        def publish(self, env) -> None:
            with guard:
                published.append(env.id)

        def publish_batch(self, envelopes) -> None:
            for env in envelopes:
                self.publish(env)

        def acknowledge(self, event_id) -> None:
            return None

        def reliability_level(self) -> ReliabilityLevel:
            return ReliabilityLevel.IN_MEMORY

    def drain(index: int) -> None:
        engine = make_engine(url)
        relay = OutboxRelay(engine, Sink(), RelayConfig(worker_id=f"w{index}", batch_size=10, variant=variant),
                            clock=ManualClock())
        try:
            while relay.process_pending_once():
                pass
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, f"{len(errors)} relay errors, first: {errors[0]}" if errors else ""
    assert count_rows(writer, "dispatched") == 400
    assert set(published) == {row["id"] for row in fetch_rows(writer)}
    if variant == "hardened":
        assert len(published) == 400  # exactly once; faithful may re-publish stale candidates
    writer.dispose()


def test_the_shared_in_memory_engine_refuses_a_second_thread_instead_of_losing_rows():
    import threading

    from rustok_sim.adapters.sql.db import SharedConnectionThreadError

    engine = make_engine()
    transport = OutboxTransport(engine, clock=ManualClock())
    transport.create_schema()
    caught: list[BaseException] = []

    def publish_from_another_thread() -> None:
        try:
            transport.publish(envelope(IdGenerator(ManualClock(), seed=5)))
        except BaseException as exc:  # noqa: BLE001 - inspected below
            caught.append(exc)

    thread = threading.Thread(target=publish_from_another_thread, name="publisher-2")
    thread.start()
    thread.join(30)
    [error] = caught
    assert isinstance(error, SharedConnectionThreadError)
    assert str(error).startswith("the in-memory SQLite engine is one shared connection, usable only from the "
                                 f"thread that made it ({threading.current_thread().name}); used from publisher-2")
    transport.publish(envelope(IdGenerator(ManualClock(), seed=6)))  # the owner thread still works
    assert count_rows(engine) == 1


def test_a_sqlite_file_engine_may_be_used_from_other_threads(tmp_path):
    import threading

    engine = make_engine(f"sqlite+pysqlite:///{tmp_path / 'shared.db'}")
    transport = OutboxTransport(engine, clock=ManualClock())
    transport.create_schema()
    thread = threading.Thread(target=lambda: transport.publish(envelope(IdGenerator(ManualClock(), seed=7))))
    thread.start()
    thread.join(30)
    assert count_rows(engine) == 1
    engine.dispose()


@pytest.mark.parametrize("name", ["abc\n", "abc\n\n", "\nabc", "ab c", "Abc", "a" * 64, ""])
def test_the_schema_name_guard_matches_the_whole_string(name):
    from rustok_sim.adapters.sql.db import valid_schema_name

    assert not valid_schema_name(name)
    with pytest.raises(ValueError, match="refusing to drop schema"):
        drop_schema(make_engine(), name)


def test_the_schema_name_guard_accepts_the_names_it_makes():
    from rustok_sim.adapters.sql.db import valid_schema_name

    assert valid_schema_name(new_schema_name("rustok_sim_test")) and valid_schema_name("a" * 63)


@pytest.mark.postgres
def test_a_schema_name_with_a_trailing_newline_is_refused_before_creating_it(database_url):
    with pytest.raises(DatabaseUrlError, match="schema name 'rustok_sim_nl\\\\n' must match"):
        make_engine(database_url, schema="rustok_sim_nl\n")


def test_forgetting_create_schema_names_the_table_and_the_fix(db_engine):
    transport = OutboxTransport(db_engine, clock=ManualClock())  # no create_schema()
    ids = IdGenerator(ManualClock(), seed=4)
    with pytest.raises(MissingTableError, match=r"^table 'sys_events' does not exist: call create_schema\(\) first "
                                               r"\(SqlOutboxStore.create_schema\(\), OutboxTransport.create_schema\(\)"
                                               r" or create_outbox_schema\(engine\)\)$") as caught:
        transport.publish(envelope(ids))
    assert caught.value.table == "sys_events" and caught.value.__cause__ is not None
    with pytest.raises(MissingTableError, match="sys_events"):
        count_rows(db_engine)
    transport.create_schema()  # the fix works, on the same engine
    transport.publish(envelope(ids))
    assert count_rows(db_engine) == 1


def test_an_engine_not_made_by_make_engine_gets_the_same_error():
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    from rustok_sim.adapters.sql.outbox import SqlOutboxStore

    engine = create_engine("sqlite://", poolclass=StaticPool)
    with pytest.raises(MissingTableError, match="table 'sys_events' does not exist: call create_schema"):
        SqlOutboxStore(engine).count()
    engine.dispose()
