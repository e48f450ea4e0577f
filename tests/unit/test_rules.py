"""The rules file: loading, every problem with its line and fix, what fires, the dry run."""

from __future__ import annotations

from pathlib import Path

from bot.rules.explain import explain, parse_spec
from bot.rules.loader import load_rules
from bot.rules.model import Facts
from bot.services.model import Catalog, PagerDutyTarget, Service
from tests.processes import run_bot

GOOD = """rules:
  - name: sev1-execs
    on: [declared, severity_raised]
    if: {severity: [sev1], service: ["payments-*"], drill: false, private: false}
    do:
      - invite: [S0EXECS]
      - post: {channel: C0EXEC, text: "{ref} {severity} {title} — {link}"}
      - page: service
      - webhook: {url: "https://hooks.example.com/incident", secret: "${HOOK_SECRET}"}
      - runbook: {name: payments-down, post: true}
"""
BAD = """rules:
  - name: typo
    on: [declard]
    if: {sevrity: [sev1]}
    do:
      - post: {channel: C0EXEC, text: "{nope}"}
  - name: two-things
    on: declared
    do:
      - invite: [S0EXECS]
        post: {channel: C0EXEC, text: hi}
  - name: secret
    on: [resolved]
    do:
      - webhook: {url: "https://x.example.com", secret: "${MISSING_SECRET}"}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    return path


def test_a_good_file_loads_with_its_variables_and_fires_only_where_it_should(tmp_path):
    rules = load_rules(_write(tmp_path, GOOD), {"HOOK_SECRET": "s3cret"})
    assert rules.problems == []
    [rule] = rules.rules
    assert rule.do[3].webhook is not None and rule.do[3].webhook.secret == "s3cret"
    payments = Facts(severity="sev1", service="payments-api", drill=False, private=False)
    assert rules.firing("declared", payments) == [rule]
    assert rules.firing("resolved", payments) == []
    for other in (
        Facts("sev2", "payments-api", False, False),
        Facts("sev1", "search", False, False),
        Facts("sev1", "payments-api", True, False),
        Facts("sev1", "payments-api", False, True),
    ):
        assert rules.firing("declared", other) == []


def test_every_problem_has_its_line_and_a_fix(tmp_path):
    rules = load_rules(_write(tmp_path, BAD), {})
    problems = [str(p).split(": ", 1)[1] for p in rules.problems]
    lines = [p.line for p in rules.problems]
    assert any(
        "`declard` is not an event" in p and "declared | severity_raised" in p for p in problems
    )
    assert any("unknown key `sevrity`" in p and "did you mean `severity`?" in p for p in problems)
    assert any("`{nope}` is not a placeholder" in p and "{ref}" in p for p in problems)
    assert any("MISSING_SECRET" in p and "is not set" in p for p in problems)
    assert 3 in lines and 4 in lines and 6 in lines and 15 in lines
    names = [r.name for r in rules.rules]
    assert "typo" not in names and "two-things" not in names  # problems: never run


def test_webhook_urls_are_checked_at_load(tmp_path):
    text = (
        'rules:\n  - name: hook\n    on: [declared]\n    do:\n      - webhook: {url: "ftp://x"}\n'
    )
    rules = load_rules(
        _write(tmp_path, text),
        {},
        check_url=lambda u: None if u.startswith("http") else "is not an http(s) URL",
    )
    [problem] = rules.problems
    assert problem.line == 5 and "webhook is not an http(s) URL" in problem.message


def test_the_dry_run_says_what_each_rule_would_do_at_each_event(tmp_path):
    rules = load_rules(_write(tmp_path, GOOD), {"HOOK_SECRET": "s"})
    catalog = Catalog(
        services={
            "payments-api": Service(
                name="payments-api", pagerduty=PagerDutyTarget(routing_key="k" * 32)
            )
        }
    )
    lines = explain(rules, catalog, parse_spec("sev1 payments-api"))
    text = "\n".join(lines)
    assert lines[0] == "For a SEV1 incident of payments-api:"
    assert "  on declared:" in lines and "  on resolved: no rule fires" in lines
    assert "rule sev1-execs: page payments-api through pagerduty" in text
    assert (
        "rule sev1-execs: POST incident.severity_raised to https://hooks.example.com/incident (signed)"
        in text
    )
    assert "rule sev1-execs: post runbook payments-down" in text
    drill = "\n".join(explain(rules, catalog, parse_spec("drill sev1 payments-api")))
    assert "no rule fires" in drill and "sev1-execs" not in drill


def test_start_up_refuses_a_rules_file_with_problems_and_check_config_explains(tmp_path):
    path = _write(tmp_path, BAD)
    result = run_bot(
        cwd=tmp_path, SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s", RULES_FILE=str(path)
    )
    assert result.returncode == 2, result.stderr
    assert "problem(s) in RULES_FILE" in result.stderr
    assert "`declard` is not an event" in result.stderr
    _write(tmp_path, GOOD)
    dry = run_bot("check-config", "--explain", "sev1 payments-api", cwd=tmp_path, HOOK_SECRET="x")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "rule sev1-execs: invite S0EXECS" in dry.stdout
    assert "Nothing was sent" in dry.stdout


async def test_check_config_checks_the_channels_and_user_groups_rules_name(slack, tmp_path):
    from tests.processes import base_env, run_cli

    slack.add_usergroup("S0EXECS", "execs")
    public = slack.add_channel("execs")
    text = f"""rules:
  - name: tell
    on: [declared]
    do:
      - post: {{channel: {public}, text: "{{ref}}"}}
      - post: {{channel: C0NOSUCH, text: "{{ref}}"}}
      - invite: [S0EXECS, S0NOSUCH]
"""
    _write(tmp_path, text)
    env = base_env(tmp_path, SLACK_API_URL=slack.api_url, RULES_FILE=str(tmp_path / "rules.yaml"))
    run = await run_cli(["check-config"], env, tmp_path, timeout=60)
    problems = [line for line in run.output.splitlines() if line.startswith("problem:")]
    assert run.code == 1, run.output
    assert len(problems) == 2, run.output
    assert any("rule `tell`" in p and "C0NOSUCH was not found" in p for p in problems)
    assert any("rule `tell`" in p and "invitee S0NOSUCH is not a user group" in p for p in problems)
    assert "U_BOT" in slack.members(public)  # joined the public channel it posts in
