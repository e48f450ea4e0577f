"""Start-up warnings that need no Slack: placeholder settings, a database on a tmpfs."""

from __future__ import annotations

from pathlib import Path

from dotenv import dotenv_values

from bot.runtime import PLACEHOLDERS, file_system, placeholder_settings, volatile_database

ROOT = Path(__file__).resolve().parents[2]
MOUNTS = """\
overlay / overlay rw,relatime 0 0
tmpfs /tmp tmpfs rw,nosuid,nodev 0 0
/dev/sda1 /tmp/kept ext4 rw,relatime 0 0
/dev/sdb1 /srv/my\\040data ext4 rw 0 0
"""


def test_the_placeholders_are_env_example_s():
    example = dotenv_values(ROOT / ".env.example")
    assert example["SLACK_BOT_TOKEN"] == PLACEHOLDERS["SLACK_BOT_TOKEN"]
    assert example["SLACK_SIGNING_SECRET"] == PLACEHOLDERS["SLACK_SIGNING_SECRET"]
    commented = (ROOT / ".env.example").read_text()
    assert f"# DATABASE_URL={PLACEHOLDERS['DATABASE_URL']}" in commented


def test_placeholder_settings_names_only_those_left_as_the_example():
    values = {
        "SLACK_BOT_TOKEN": "xoxb-your-bot-token",
        "SLACK_SIGNING_SECRET": "a-real-secret",
        "DATABASE_URL": "sqlite+aiosqlite:///./incidents.db",
    }
    assert placeholder_settings(values) == ["SLACK_BOT_TOKEN"]
    assert placeholder_settings({"SLACK_SIGNING_SECRET": None}) == []


def test_the_file_system_of_a_path_is_its_longest_mount_point():
    assert file_system(Path("/tmp/incidents.db"), MOUNTS) == "tmpfs"
    assert file_system(Path("/tmp/kept/incidents.db"), MOUNTS) == "ext4"
    assert file_system(Path("/tmpfoo/incidents.db"), MOUNTS) == "overlay"
    assert file_system(Path("/srv/my data/incidents.db"), MOUNTS) == "ext4"
    assert file_system(Path("/x"), "") is None


def test_a_sqlite_file_on_a_tmpfs_is_volatile_and_other_databases_are_not(tmp_path):
    mounts = tmp_path / "mounts"
    mounts.write_text(MOUNTS)
    assert volatile_database("sqlite+aiosqlite:////tmp/incidents.db", mounts) == "tmpfs"
    assert volatile_database("sqlite+aiosqlite:////tmp/kept/incidents.db", mounts) is None
    assert volatile_database("sqlite+aiosqlite:///:memory:", mounts) is None
    assert volatile_database("postgresql+asyncpg://u@db/incidents", mounts) is None
    assert volatile_database("sqlite+aiosqlite:////tmp/x.db", tmp_path / "absent") is None
