"""The async engine, sessions, and Alembic migrations applied at start-up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

MIGRATIONS = Path(__file__).with_name("migrations")
if TYPE_CHECKING:
    from alembic.config import Config


def newest_revision() -> str:
    """The newest migration's revision (its file name's number: `0012_….py` is "0012")."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


# Any constant works; it only has to be the same for every replica.
_MIGRATION_LOCK = 4_202_611_270
# A health probe not done by then is taken to hang on a dead connection (PostgreSQL)
PROBE_LIMIT = 3.0


def _sqlite_setup(engine: AsyncEngine) -> None:
    """WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE so writers queue instead of failing."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def dialect_of(session: AsyncSession) -> str:
    """The session's database dialect name: `sqlite` or `postgresql`."""
    return session.bind.dialect.name if session.bind is not None else "sqlite"


class Database:
    """Owns the engine; hands out sessions that commit at the caller's boundary."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        options: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            options["connect_args"] = {"timeout": 30}
        else:
            options.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.engine = create_async_engine(url, **options)
        if self.is_sqlite:
            _sqlite_setup(self.engine)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        # SQLite has one writer at a time; queueing here is fair and fast, where SQLite's own
        # busy handler sleeps and retries. Sessions are short: no Slack call happens inside one.
        self._sqlite_lock = asyncio.Lock() if self.is_sqlite else None
        self._probe: asyncio.Future[bool] | None = None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session; what is not committed is rolled back. Callers commit explicitly."""
        # Leaving the session closes it, which rolls back anything not committed (also when
        # the task is cancelled: no await on a possibly dead connection in an except block).
        async with self._exclusive(), self._sessions() as session:
            yield session

    @asynccontextmanager
    async def _exclusive(self) -> AsyncIterator[None]:
        if self._sqlite_lock is None:
            yield
            return
        async with self._sqlite_lock:
            yield

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def writable(self, within: float = 0.9) -> bool:
        """True when a write transaction can start now; answers within `within` seconds.

        One probe runs at a time and callers share it: a database that hangs is not asked
        again by every health check while the first question is still open.
        """
        if self._probe is None or self._probe.done():
            self._probe = asyncio.ensure_future(self._try_write())
        try:
            return await asyncio.wait_for(asyncio.shield(self._probe), within)
        except TimeoutError:
            return False

    async def _try_write(self) -> bool:
        """One probe. On PostgreSQL it ends after PROBE_LIMIT seconds at most: a connection
        that was accepted but never answers (a hung server, a path that is gone) would hold
        it, and every health check after it, for good."""
        if self.is_sqlite:  # bounded by the busy timeout, like every write
            return await self._write_once()
        try:
            async with asyncio.timeout(PROBE_LIMIT):
                return await self._write_once()
        except TimeoutError:
            # the pool's other connections were opened to the same server and may be as dead:
            # from now on checkouts get new ones (those still in use are dropped when returned)
            await self.engine.dispose(close=False)
            return False

    async def _write_once(self) -> bool:
        try:
            # SQLite: in the writers' queue, and the transaction begins IMMEDIATE, taking the
            # write lock (_sqlite_setup), so it waits its turn like any write
            async with self._exclusive(), self.engine.begin() as connection:
                if not self.is_sqlite:  # refused on a read-only server or a standby
                    await connection.execute(text("SET TRANSACTION READ WRITE"))
                await connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (serialised across replicas).

        A database already there is not handed to Alembic, which is then never imported:
        it and what it loads (Mako, Pygments) would cost the serving process about 12 MiB."""
        if await self._at_newest():
            return
        async with self.engine.begin() as connection:
            if not self.is_sqlite:
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
                )
            await connection.run_sync(_upgrade)

    async def _at_newest(self) -> bool:
        try:
            async with self.engine.connect() as connection:
                found = await connection.execute(text("SELECT version_num FROM alembic_version"))
                return [row[0] for row in found] == [newest_revision()]
        except Exception:  # no such table yet: a new database
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config pointing at the packaged migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), "head")
