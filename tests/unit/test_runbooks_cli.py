"""`python -m bot check-runbooks [DIR]`, and start-up refusing invalid runbooks, as processes."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.fakes import FakeSlack
from tests.processes import base_env, free_port, run_bot, run_cli

GOOD = "name: good-one\ntitle: A good runbook\nsteps:\n  - Check the dashboard\n"


def bad_folder(root: Path) -> Path:
    folder = root / "books"
    folder.mkdir()
    (folder / "good.yaml").write_text(GOOD)
    (folder / "broken.yaml").write_text("name: broken\ntitle: [unclosed\nsteps:\n  - x\n")
    (folder / "typed.yaml").write_text("name: typed\ntitle: Typed\nsteps: 42\n")
    long_step = "x" * 5000
    (folder / "long.yaml").write_text(
        f"name: long\ntitle: Long\nsteps:\n  - title: ok\n    detail: {long_step}\n"
    )
    (folder / "copy.yaml").write_text(GOOD)
    return folder


def test_check_runbooks_prints_every_problem_with_file_line_and_fix(tmp_path):
    folder = bad_folder(tmp_path)
    result = run_bot("check-runbooks", str(folder), cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    problems = [line for line in result.stdout.splitlines() if line.startswith("problem:")]
    by_file = {Path(p.split(":")[1].strip()).name: p for p in problems}
    assert set(by_file) == {"broken.yaml", "typed.yaml", "long.yaml", "copy.yaml", "good.yaml"}
    assert all(" — fix: " in p for p in problems)
    assert "broken.yaml:3: invalid YAML" in by_file["broken.yaml"]
    assert "typed.yaml:3: steps is a number (`42`), not a list" in by_file["typed.yaml"]
    assert "5,000 characters; Slack shows at most 2500" in by_file["long.yaml"]
    assert "is also used by" in by_file["copy.yaml"]
    assert result.stdout.strip().splitlines()[-1] == "5 problems in 5 files"


def test_check_runbooks_needs_no_slack_settings_and_reads_runbooks_dir(tmp_path):
    folder = tmp_path / "team-runbooks"
    folder.mkdir()
    (folder / "good.yaml").write_text(GOOD)
    steps = "".join(f"  - Step {i}\n" for i in range(80))
    (folder / "eighty.yaml").write_text(f"name: eighty\ntitle: Eighty steps\nsteps:\n{steps}")
    result = run_bot("check-runbooks", cwd=tmp_path, RUNBOOKS_DIR=str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "note:" in result.stdout and "80 steps will be posted across several" in result.stdout
    assert result.stdout.strip().endswith("ok: 2 runbooks valid")
    missing = run_bot("check-runbooks", str(tmp_path / "nope"), cwd=tmp_path)
    assert missing.returncode == 1 and "does not exist" in missing.stdout


def test_start_up_refuses_invalid_runbooks_with_the_same_messages(tmp_path):
    folder = bad_folder(tmp_path)
    result = run_bot(
        cwd=tmp_path,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL="http://127.0.0.1:9/api/",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/refused.db",
        RUNBOOKS_DIR=str(folder),
        PORT=str(free_port()),
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    checked = run_bot("check-runbooks", str(folder), cwd=tmp_path)
    expected = [line for line in checked.stdout.splitlines() if line.startswith("problem:")]
    lines = result.stderr.strip().splitlines()
    assert lines[:-1] == expected
    assert lines[-1].startswith("error: 5 runbook problem(s) in RUNBOOKS_DIR")
    assert "check-runbooks" in lines[-1]
    assert not (tmp_path / "refused.db").exists(), "nothing started"


async def test_check_config_reports_runbook_problems_too(slack: FakeSlack, tmp_path):
    folder = bad_folder(tmp_path)
    environment = base_env(
        tmp_path,
        SLACK_API_URL=slack.api_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/cfg.db",
        RUNBOOKS_DIR=str(folder),
    )
    run = await run_cli(["check-config"], environment, tmp_path, timeout=60)
    assert run.code == 1
    problems = [line for line in run.output.splitlines() if line.startswith("problem:")]
    assert len([p for p in problems if "books/" in p]) == 5, run.output
