"""The database of a live run: PostgreSQL when RUSTOK_SIM_DATABASE_URL is set, else a SQLite
file, with the outbox and read-model tables of the run's own.

On PostgreSQL the run gets a fresh schema (``rustok_sim_live_<hex>``) and drops it on exit; on
SQLite, a file in a temporary directory that is removed on exit. Either way the relay processes
connect to the same place through `RelayWorkerSpec.url` and `schema`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from types import TracebackType

from sqlalchemy import Engine

from rustok_sim.adapters.sql.consumer import create_read_model_schema
from rustok_sim.adapters.sql.db import display_url, drop_schema, make_engine, new_schema_name
from rustok_sim.adapters.sql.outbox import create_outbox_schema

__all__ = ["DATABASE_URL_VARIABLE", "LiveDatabase"]

DATABASE_URL_VARIABLE = "RUSTOK_SIM_DATABASE_URL"


class LiveDatabase:
    """A context manager: entering creates the schema (or file) and the tables, leaving drops them.

    `epoch` (Unix seconds) is added to virtual time when rows are stamped, so row times read as
    real dates; every process of the run uses the same one."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url if url is not None else (os.environ.get(DATABASE_URL_VARIABLE, "").strip() or None)
        self.schema: str | None = None
        self.directory: Path | None = None
        self.engine: Engine | None = None
        self.epoch = float(int(time.time()))

    @property
    def kind(self) -> str:
        return "postgresql" if self.schema is not None else "sqlite"

    @property
    def worker_url(self) -> str:
        """The URL a relay process connects with (the SQLite file's, or the PostgreSQL one)."""
        assert self.url is not None
        return self.url

    def describe(self) -> str:
        return display_url(self.url or "") + (f" schema {self.schema}" if self.schema else "")

    def __enter__(self) -> LiveDatabase:
        try:
            if self.url is None or self.url.startswith("sqlite"):
                self.directory = Path(tempfile.mkdtemp(prefix="rustok-sim-live-db-"))
                self.url = f"sqlite:///{self.directory / 'outbox.db'}"
                self.engine = make_engine(self.url)
            else:
                self.schema = new_schema_name("rustok_sim_live")
                self.engine = make_engine(self.url, schema=self.schema, pool_pre_ping=True)
            create_outbox_schema(self.engine)
            create_read_model_schema(self.engine)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Drop the run's schema (or remove its file). Idempotent."""
        engine, self.engine = self.engine, None
        if engine is not None:
            try:
                if self.schema is not None:
                    drop_schema(engine, self.schema)
            finally:
                engine.dispose()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
