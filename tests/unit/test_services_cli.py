"""The service catalog as a process: start-up refusing a catalog with problems, and
`check-config` checking it, its channels and its user groups against Slack."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.fakes import FakeSlack
from tests.processes import base_env, free_port, run_bot, run_cli

KEY = "0123456789abcdef0123456789abcdef"
BROKEN = """\
services:
  - name: checkout-api
    pagerduty:
      routing_key: ${PD_CHECKOUT_KEY}
    channel: "#checkout"
  - name: search
    chanel: C0SEARCH
  - name: checkout-api
"""
BROKEN_LINES = [
    "problem: services.yaml:4: services[0].pagerduty.routing_key uses `${PD_CHECKOUT_KEY}`, but "
    "the environment variable PD_CHECKOUT_KEY is not set — fix: set PD_CHECKOUT_KEY in the bot's "
    "environment (or its .env file), or write the value here",
    "problem: services.yaml:5: services[0].channel `#checkout` is not a channel ID — fix: use the "
    "channel's ID, like C0123ABCD (channel details > About), not its name",
    "problem: services.yaml:7: unknown key `chanel` in services[1] — fix: did you mean `channel`?",
    "problem: services.yaml:8: services[2].name `checkout-api` is also used by services[0] "
    "(line 2) — fix: rename one of them; names must be unique",
]


def start(tmp_path: Path, **env: str):
    """`python -m bot` in `tmp_path` (where the default ./services.yaml is) with valid settings."""
    return run_bot(
        cwd=tmp_path,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL="http://127.0.0.1:9/api/",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/refused.db",
        PORT=str(free_port()),
        **env,
    )


def test_start_up_refuses_a_catalog_with_problems_and_lists_every_one(tmp_path):
    (tmp_path / "services.yaml").write_text(BROKEN)
    result = start(tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [
        *BROKEN_LINES,
        "error: 4 problem(s) in SERVICES_FILE (services.yaml): fix them (check with "
        "`python -m bot check-config`) before starting",
    ]
    assert not (tmp_path / "refused.db").exists(), "nothing started"


def test_variables_may_come_from_the_environment_or_dot_env(tmp_path):
    catalog = tmp_path / "ops" / "catalog.yaml"
    catalog.parent.mkdir()
    catalog.write_text(BROKEN)
    from_env = start(tmp_path, SERVICES_FILE=str(catalog), PD_CHECKOUT_KEY=KEY)
    (tmp_path / ".env").write_text(f"PD_CHECKOUT_KEY={KEY}\n")
    from_dotenv = start(tmp_path, SERVICES_FILE=str(catalog))
    for result in (from_env, from_dotenv):
        assert result.returncode == 2, result.stderr
        problems = [line for line in result.stderr.splitlines() if line.startswith("problem:")]
        assert len(problems) == 3 and "PD_CHECKOUT_KEY" not in result.stderr
        assert all(line.startswith(f"problem: {catalog}:") for line in problems)


def test_runbook_and_catalog_problems_are_listed_together(tmp_path):
    (tmp_path / "services.yaml").write_text(BROKEN)
    books = tmp_path / "books"
    books.mkdir()
    (books / "typed.yaml").write_text("name: typed\ntitle: Typed\nsteps: 42\n")
    result = start(tmp_path, RUNBOOKS_DIR=str(books))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0] == (
        f"problem: {books}/typed.yaml:3: steps is a number (`42`), not a list — fix: write one "
        "`- item` per line under it"
    )
    assert lines[1].startswith("error: 1 runbook problem(s) in RUNBOOKS_DIR")
    assert lines[2:-1] == BROKEN_LINES
    assert lines[-1].startswith("error: 4 problem(s) in SERVICES_FILE")


# --- check-config ----------------------------------------------------------------------------


def catalog_for(slack: FakeSlack) -> tuple[str, dict[str, str]]:
    """A catalog whose channels and user groups Slack partly does not know."""
    slack.add_usergroup("S0CHECKOUT", "checkout-team", ["U_ALICE"])
    ids = {
        "checkout": slack.add_channel("checkout"),  # public: the bot joins it
        "secret": slack.add_channel("payments-secret", is_private=True),
    }
    text = f"""\
services:
  - name: checkout-api
    owners: [S0CHECKOUT, U_ALICE]
    channel: {ids["checkout"]}
    runbooks: [cache]
  - name: search
    owners: [S0CHECKOUT, S0NOSUCH]
    channel: C0NOSUCH
  - name: payments
    channel: {ids["secret"]}
    runbooks: [payments-down]
  - name: ledger
    channel: C0NOSUCH
  - name: billing
    opsgenie: {{team: "${{OG_TEAM}}"}}
"""
    return text, ids


async def check_config(slack: FakeSlack, tmp_path: Path, catalog: str) -> tuple[int | None, str]:
    (tmp_path / "services.yaml").write_text(catalog)
    books = tmp_path / "books"
    books.mkdir(exist_ok=True)
    (books / "cache.yaml").write_text("name: cache\ntitle: Cache\nsteps:\n  - Flush it\n")
    env = base_env(tmp_path, SLACK_API_URL=slack.api_url, RUNBOOKS_DIR=str(books))
    run = await run_cli(["check-config"], env, tmp_path, timeout=60)
    return run.code, run.output


async def test_check_config_reports_unknown_channels_groups_and_runbooks(
    slack: FakeSlack, tmp_path: Path
):
    text, ids = catalog_for(slack)
    code, output = await check_config(slack, tmp_path, text)
    assert code == 1, output
    problems = [line for line in output.splitlines() if line.startswith("problem:")]
    assert len(problems) == len(set(problems)) == 7, output
    assert set(problems) == {
        "problem: services.yaml:9: service `payments` lists runbook `payments-down`, which is not "
        "in RUNBOOKS_DIR — fix: add a runbook of that name to RUNBOOKS_DIR, or remove it from "
        "`runbooks:`",
        "problem: services.yaml:9: service `payments`: channel "
        f"{ids['secret']} was not found or is private — fix: check the ID (channel details > "
        "About), or /invite the bot into it",
        "problem: services.yaml:15: services[4].opsgenie.team uses `${OG_TEAM}`, but the "
        "environment variable OG_TEAM is not set — fix: set OG_TEAM in the bot's environment (or "
        "its .env file), or write the value here",
        "problem: services.yaml:6: service `search`: channel C0NOSUCH was not found or is "
        "private — fix: check the ID (channel details > About), or /invite the bot into it",
        "problem: services.yaml:12: service `ledger`: channel C0NOSUCH was not found or is "
        "private — fix: check the ID (channel details > About), or /invite the bot into it",
        "problem: services.yaml:14: service `billing` is paged through Opsgenie, but "
        "OPSGENIE_API_KEY is not set — fix: set OPSGENIE_API_KEY to an API integration's key, "
        "or remove `opsgenie:`",
        "problem: services.yaml:6: service `search`: owner S0NOSUCH is not a user group of this "
        "workspace (or it is disabled) — fix: check the ID (a user group's page URL ends with "
        "it), or remove it from `owners`",
    }
    assert "U_BOT" in slack.members(ids["checkout"])  # the bot joined to be able to post there
    assert len(slack.calls_to("usergroups.list")) == 1
    infos = [call.args["channel"] for call in slack.calls_to("conversations.info")]
    assert sorted(infos) == sorted([ids["checkout"], ids["secret"], "C0NOSUCH"])  # each once


async def test_check_config_passes_a_good_catalog(slack: FakeSlack, tmp_path: Path):
    slack.add_usergroup("S0CHECKOUT", "checkout-team")
    channel = slack.channel_by_name("incidents")["id"]
    catalog = f"""\
services:
  - name: checkout-api
    owners: [S0CHECKOUT, U_ALICE]
    channel: {channel}
    runbooks: [cache]
    pagerduty: {{routing_key: {KEY}}}
"""
    code, output = await check_config(slack, tmp_path, catalog)
    assert code == 0, output
    assert "ok: configuration is valid" in output


async def test_check_config_names_pager_credentials_the_catalog_needs(
    slack: FakeSlack, tmp_path: Path
):
    catalog = f"""\
services:
  - name: payments
    opsgenie: {{team: payments, schedule: payments_schedule}}
  - name: checkout-api
    pagerduty: {{routing_key: {KEY}, escalation_policy: PPOL01}}
"""
    code, output = await check_config(slack, tmp_path, catalog)
    assert code == 1, output
    problems = [line for line in output.splitlines() if line.startswith("problem:")]
    assert problems == [
        "problem: services.yaml:2: service `payments` is paged through Opsgenie, but "
        "OPSGENIE_API_KEY is not set — fix: set OPSGENIE_API_KEY to an API integration's key, "
        "or remove `opsgenie:`",
        "problem: services.yaml:4: service `checkout-api` names a PagerDuty escalation policy or "
        "service ID, which need PAGERDUTY_API_TOKEN (on-call lookups, paging people) — fix: set "
        "PAGERDUTY_API_TOKEN to a REST API key",
    ]
