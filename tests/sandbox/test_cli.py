"""`python -m bot sandbox` as a user runs it: prints the address, serves, stops; a taken port."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    # settings that would break a real start must not matter to the sandbox
    env.update(SLACK_BOT_TOKEN="not-a-token", SLACK_APP_TOKEN="xapp-real", PYTHONPATH=str(ROOT))
    return env


def test_a_taken_port_is_one_line_naming_it_and_the_fix(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "bot", "sandbox", "--port", str(port)],
            cwd=tmp_path,
            env=environment(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(port) in lines[0] and "already in use" in lines[0] and "--port" in lines[0]
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_a_database_that_does_not_answer_is_one_line_as_for_serve(tmp_path):
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    dead = f"postgresql+asyncpg://x@127.0.0.1:{port}/x"
    env = environment(tmp_path)

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=tmp_path,
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=60,
        )

    sandbox = run("sandbox", "--port", "0", "--database-url", dead)
    assert sandbox.returncode == 2, sandbox.stderr
    assert "Traceback" not in sandbox.stderr
    [line] = sandbox.stderr.strip().splitlines()
    assert line.startswith("error: --database-url: the database does not answer"), line
    assert "ConnectionRefusedError" in line and "check the URL" in line
    assert sandbox.stdout == ""
    serve = run(
        "serve", SLACK_BOT_TOKEN="xoxb-1-real", SLACK_SIGNING_SECRET="s" * 32, DATABASE_URL=dead
    )
    assert serve.returncode == 2
    assert serve.stderr == sandbox.stderr.replace("--database-url:", "DATABASE_URL:")


def test_the_sandbox_never_uses_an_exported_database_url(tmp_path):
    """A DATABASE_URL exported for a real bot is left alone: the sandbox keeps its own."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = {**environment(tmp_path), "DATABASE_URL": f"postgresql+asyncpg://x@127.0.0.1:{port}/x"}
    child = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--port", "0"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # the sandbox is up, on its own database
        assert line.startswith("Sandbox ready: http://127.0.0.1:"), line
    finally:
        child.terminate()
        child.wait(timeout=30)


def test_an_impossible_port_is_refused():
    done = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--port", "70000"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == "error: --port 70000 is not a port: pass a number from 1 to 65535 (0: any free port)"
    )


@contextlib.contextmanager
def sandbox(tmp_path: Path, *args: str) -> Iterator[str]:
    """`python -m bot sandbox --port 0 ARGS`: its address once it prints it. Ctrl-C must then
    stop it cleanly (exit 0, no traceback)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", *args, "--port", "0"],
        cwd=tmp_path,
        env=environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Sandbox ready: http://127.0.0.1:"), line
        yield line.split()[2]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        assert "Traceback" not in (process.stderr.read() if process.stderr else "")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_it_prints_the_address_serves_the_page_and_stops_on_ctrl_c(tmp_path):
    with (
        sandbox(tmp_path) as url,
        urllib.request.urlopen(url, timeout=10) as page,  # noqa: S310 - our own sandbox
    ):
        assert page.status == 200
        assert b"Incident bot sandbox" in page.read()


def test_demo_begins_playing_on_the_page(tmp_path):
    with (
        sandbox(tmp_path, "--demo") as url,
        urllib.request.urlopen(f"{url}/api/events", timeout=20) as events,  # noqa: S310
    ):
        with urllib.request.urlopen(f"{url}/api/workspace", timeout=10) as answer:  # noqa: S310
            workspace = json.loads(answer.read())
        assert workspace["demo"] is True
        told = [n["text"] for n in workspace["narration"]]
        while not told:  # the demo had not said anything yet: its first words are pushed
            line = events.readline().decode()
            if line.startswith("data: ") and json.loads(line[6:])["type"] == "narration":
                told.append(json.loads(line[6:])["text"])
        assert told[0].startswith("Demo: a full incident"), told
