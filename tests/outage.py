"""Database outages for tests: a PostgreSQL server cut off behind a relay, or a SQLite file
that stops being a database, and both brought back."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


class Relay:
    """A TCP relay to a database server that can be cut (every connection dropped, new ones
    refused), stalled (connections stay open, nothing goes through) and restored on the same
    port."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None
        self.flowing = asyncio.Event()  # for connections made from now on
        self.flowing.set()
        self.gates: list[asyncio.Event] = []  # one per connection: set while it flows
        self.lost: list[asyncio.Event] = []  # connections that will never flow again

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        gate = asyncio.Event()
        if self.flowing.is_set():
            gate.set()
        self.gates.append(gate)
        await gate.wait()
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.writers.append(up_writer)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    await gate.wait()
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def url(self, database_url: str) -> str:
        """`database_url` with its host and port replaced by this relay's."""
        parts = urlsplit(database_url)
        credentials, _, _host = parts.netloc.rpartition("@")
        netloc = f"127.0.0.1:{self.port}"
        return urlunsplit(
            parts._replace(netloc=f"{credentials}@{netloc}" if credentials else netloc)
        )

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        self.writers.clear()
        for gate in self.lost:  # let their pipes see the connection closed, and end
            gate.set()
        self.lost.clear()
        await asyncio.sleep(0.1)

    def stall(self) -> None:
        """The server hangs: connections stay open, but nothing goes through either way."""
        self.flowing.clear()
        for gate in self.gates:
            gate.clear()

    async def restore(self, *, stalled: str = "resume") -> None:
        """The server answers again. The connections open while it hung resume, or with
        `stalled="lost"` stay open and silent for good, as connections do whose path is gone
        (a firewall or NAT that forgot them): only connections made from now on work."""
        self.flowing.set()
        if stalled == "resume":
            for gate in self.gates:
                gate.set()
        self.lost += [gate for gate in self.gates if not gate.is_set()]
        self.gates = [gate for gate in self.gates if gate.is_set()]
        if self.server is None or not self.server.is_serving():
            await self.start()


class BrokenFile:
    """A SQLite database whose file is replaced by garbage (as a failing disk would leave it),
    and put back. The bot's pool is emptied each time, so its connections open the file anew."""

    def __init__(self, path: Path, db: object) -> None:
        self.path = path
        self.db = db
        self.kept = path.with_name(path.name + ".kept")

    def _files(self, base: Path) -> list[tuple[Path, Path]]:
        return [
            (base.with_name(base.name + s), self.kept.with_name(self.kept.name + s))
            for s in ("", "-wal", "-shm")
        ]

    async def cut(self) -> None:
        await self.db.dispose()  # type: ignore[attr-defined]
        for live, kept in self._files(self.path):
            if live.exists():
                shutil.move(live, kept)
        self.path.write_bytes(b"this is not a database" * 512)

    async def restore(self) -> None:
        await self.db.dispose()  # type: ignore[attr-defined]
        self.path.unlink()
        for live, kept in self._files(self.path):
            if kept.exists():
                shutil.move(kept, live)
