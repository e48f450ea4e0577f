"""Runbook loading, validation messages, matching, the check CLI and Block Kit rendering."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.runbooks import StepState, load_runbooks
from bot.runbooks.check import check_runbooks
from bot.runbooks.loader import parse_runbook
from bot.runbooks.model import Runbook, RunbookMatch, RunbookSet
from bot.slack.views.runbook import (
    RunbookAction,
    page_of_step,
    runbook_messages,
    runbook_offer_blocks,
    runbook_pages,
)
from bot.slack.views.runbook_picker import runbook_picker, runbook_preview
from bot.types import Severity

SHIPPED = Path(__file__).parents[2] / "runbooks"
AT = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def runbook_yaml(name: str = "db", steps: int = 3, match: str = "") -> str:
    body = "".join(f"  - Step number {i + 1}\n" for i in range(steps))
    return f"name: {name}\ntitle: Title of {name}\n{match}steps:\n{body}"


def make(name: str, match: dict[str, Any] | None = None, steps: list[Any] | None = None) -> Runbook:
    return Runbook.model_validate(
        {"name": name, "title": f"Runbook {name}", "match": match, "steps": steps or ["Do it"]}
    )


def only_problem(directory: Path) -> str:
    result = load_runbooks(directory)
    assert len(result.problems) == 1, result.problems
    return str(result.problems[0])


# --- bad input -------------------------------------------------------------------------------


BAD_FILES = {
    "invalid YAML": ("name: db\ntitle: a: b\nsteps: [a]\n", ":2: invalid YAML: mapping values"),
    "unclosed quote": ('name: db\ntitle: "open\nsteps: [a]\n', ":2: invalid YAML: a quote is opened but never closed"),
    "tabs": ("name: db\nsteps:\n\t- one\n", ":3: invalid YAML: a tab is used for indentation"),
    "two documents": ("name: a\n---\nname: b\n", ":2: the file holds more than one YAML document"),
    "empty": ("# nothing yet\n", "the file is empty — fix:"),
    "wrong type": ("name: db\ntitle: T\nsteps:\n  - title: ok\n    detail: [a]\n", ":5: steps[0].detail is a list, not text"),
    "number for text": ("name: db\ntitle: 2024\nsteps: [a]\n", ':2: title is a number (`2024`), not text — fix: put it in quotes: "2024"'),
    "steps not a list": ("name: db\ntitle: T\nsteps: do it\n", ":3: steps is text, not a list"),
    "empty steps": ("name: db\ntitle: T\nsteps:\n", ":3: steps is empty"),
    "step is a number": ("name: db\ntitle: T\nsteps:\n  - 42\n", ":4: steps[0] is a number (`42`), not a step"),
    "no step title": ("name: db\ntitle: T\nsteps:\n  - detail: x\n", ":4: steps[0] has no `title` — fix: add `title:"),
    "no close key": ("name: db\ntitle: T\nowner: me\nsteps: [a]\n", ":3: unknown key `owner` — fix: remove it; allowed here: `name`, `title`"),
    "alias key": ("name: db\ntitle: T\nsteps:\n  - title: x\n    cmd: ls\n", ":5: unknown key `cmd` in steps[0] — fix: did you mean `command`?"),
    "bad name": ("name: DB Failover!\ntitle: T\nsteps: [a]\n", ":1: name `DB Failover!` is not a valid name — fix: use lowercase letters, digits and hyphens, e.g. `db-failover`"),
    "bad severity": ("name: db\ntitle: T\nmatch:\n  severity: [p1]\nsteps: [a]\n", ":4: match.severity[0] `p1` is not a severity"),
    "bad link": ("name: db\ntitle: T\nsteps:\n  - title: x\n    link: ftp://h\n", ":5: steps[0].link `ftp://h` is not an http(s) URL"),
    "duplicate key": ("name: db\ntitle: A\ntitle: B\nsteps: [a]\n", ":3: key `title` appears twice (lines 2 and 3)"),
    "long detail": (f"name: db\ntitle: T\nsteps:\n  - title: x\n    detail: {'d' * 2600}\n", ":5: steps[0].detail is 2,600 characters; Slack shows at most 2500 — fix: shorten it or split"),
    "250 steps": (runbook_yaml("huge", steps=250), ":3: the runbook has 250 steps; at most 200 are allowed — fix: split it"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_file_gives_one_clear_problem(tmp_path, case):
    text, expected = BAD_FILES[case]
    write(tmp_path, "bad.yaml", text)
    assert expected in only_problem(tmp_path)


def test_document_that_is_not_a_mapping(tmp_path):
    write(tmp_path, "list.yaml", "- one\n- two\n")
    assert only_problem(tmp_path) == (
        f"{tmp_path}/list.yaml:1: the file holds a list, not a runbook — fix: write the runbook "
        "as `key: value` lines starting with `name:`, `title:` and `steps:`"
    )


def test_five_thousand_character_step(tmp_path):
    steps = "".join(f"  - step {i}\n" for i in range(3)) + f"  - {'x' * 5000}\n"
    write(tmp_path, "db.yaml", f"name: db\ntitle: T\nsteps:\n{steps}")
    assert only_problem(tmp_path) == (
        f"{tmp_path}/db.yaml:7: steps[3].title is 5,000 characters; Slack shows at most 150 "
        "— fix: shorten it and move the rest to `detail`"
    )


def test_missing_required_fields(tmp_path):
    write(tmp_path, "m.yaml", "description: only this\n")
    messages = [p.message for p in load_runbooks(tmp_path).problems]
    assert messages == ["`name` is missing", "`title` is missing", "`steps` is missing"]


def test_unknown_key_suggests_the_right_one(tmp_path):
    text = "name: db\ntitle: T\nmatch:\n  serivces: [api]\nsteps:\n  - titel: Check\n"
    write(tmp_path, "u.yaml", text)
    problems = [str(p) for p in load_runbooks(tmp_path).problems]
    assert problems == [
        f"{tmp_path}/u.yaml:4: unknown key `serivces` in match — fix: did you mean `services`?",
        f"{tmp_path}/u.yaml:6: unknown key `titel` in steps[0] — fix: did you mean `title`?",
    ]


def test_duplicate_names_across_files_report_both(tmp_path):
    write(tmp_path, "a.yaml", runbook_yaml("db"))
    write(tmp_path, "sub/b.yml", runbook_yaml("db"))
    result = load_runbooks(tmp_path)
    assert sorted(str(p) for p in result.problems) == [
        f"{tmp_path}/a.yaml:1: name `db` is also used by {tmp_path}/sub/b.yml:1 "
        "— fix: rename one of them; names must be unique",
        f"{tmp_path}/sub/b.yml:1: name `db` is also used by {tmp_path}/a.yaml:1 "
        "— fix: rename one of them; names must be unique",
    ]
    assert list(result.runbooks) == ["db"]


def test_eighty_steps_load_with_a_note_but_no_problem(tmp_path):
    write(tmp_path, "long.yaml", runbook_yaml("long", steps=80))
    result = load_runbooks(tmp_path)
    assert result.problems == [] and len(result.runbooks["long"].steps) == 80
    assert "several Slack messages" in str(result.notes[0])


def test_missing_directory_is_silent_for_the_loader(tmp_path):
    result = load_runbooks(tmp_path / "nope")
    assert result.runbooks == {} and result.problems == []


def test_hidden_folders_and_other_files_are_ignored(tmp_path):
    write(tmp_path, ".github/workflows/ci.yml", "on: push\n")
    write(tmp_path, "notes.md", "# hi\n")
    write(tmp_path, "ok.yaml", runbook_yaml("ok"))
    result = load_runbooks(tmp_path)
    assert list(result.runbooks) == ["ok"] and result.problems == []


def test_single_values_and_case_are_forgiven():
    runbook = make("x", {"severity": "SEV1", "services": "api", "labels": {"code": 500}})
    assert runbook.match is not None
    assert runbook.match.severity == [Severity.SEV1] and runbook.match.services == ["api"]
    assert runbook.match.labels == {"code": ["500"]}


# --- shipped runbooks --------------------------------------------------------------------------


def test_shipped_runbooks_all_load_cleanly():
    result = load_runbooks(SHIPPED)
    assert result.problems == []
    assert len(result.runbooks) >= 6
    for runbook in result.runbooks.values():
        assert 6 <= len(runbook.steps) <= 12, runbook.name
        assert runbook.match and not runbook.match.is_empty, runbook.name
        assert any(step.command for step in runbook.steps), runbook.name
        assert runbook.source is not None and runbook.source.stem == runbook.name
        check_limits(runbook_messages(runbook, {}, incident_ref="INC-1", runbook_run_id=1))


def test_readme_example_is_valid():
    readme = (SHIPPED / "README.md").read_text()
    example = re.search(r"```yaml\n(.*?)```", readme, re.S)
    assert example is not None
    runbook, problems, _, _ = parse_runbook(Path("example.yaml"), example.group(1))
    assert problems == [] and runbook is not None


def test_shipped_runbooks_match_their_incidents():
    runbooks = load_runbooks(SHIPPED)
    cases = {
        "Database failover stalled by replication lag": "database-failover-replication-lag",
        "Kubernetes scheduler not placing pods": "kubernetes-control-plane-scheduler",
        "Stripe rate limit errors on checkout": "third-party-rate-limit-cascade",
        "Access denied writing invoices to S3": "iam-storage-access-denied",
        "HPA maxed out, capacity shortfall": "autoscaling-capacity-shortfall",
        "Errors after deploy of search 4.2": "bad-deploy-feature-flag-rollback",
    }
    for title, name in cases.items():
        found = runbooks.matching(severity=Severity.SEV2, service=None, title=title)
        assert found and found[0].name == name, (title, [r.name for r in found])
    by_alert = runbooks.matching(
        severity=Severity.SEV1,
        service=None,
        title="alert",
        labels={"alertname": "KubeSchedulerDown"},
    )
    assert [r.name for r in by_alert] == ["kubernetes-control-plane-scheduler"]


# --- matching ---------------------------------------------------------------------------------


def test_matching_orders_labels_then_service_then_type_then_severity():
    runbooks = RunbookSet(
        runbooks={
            r.name: r
            for r in [
                make("by-type", {"types": ["database"]}),
                make("by-severity", {"severity": ["sev1"]}),
                make("by-service", {"services": ["payments-api"]}),
                make("by-labels", {"labels": {"alertname": "Postgres*"}}),
                make("manual"),
                make("other-service", {"severity": ["sev1"], "services": ["search"]}),
            ]
        }
    )
    found = runbooks.matching(
        severity=Severity.SEV1,
        service="payments-api",
        title="Database replicas lagging",
        labels={"alertname": "PostgresReplicationLag", "team": "db"},
    )
    assert [r.name for r in found] == ["by-labels", "by-service", "by-type", "by-severity"]


def test_severity_gates_other_rules():
    gated = make("gated", {"severity": ["sev1", "sev2"], "types": ["database"]})
    runbooks = RunbookSet(runbooks={"gated": gated})
    assert runbooks.matching(severity=Severity.SEV3, service=None, title="database down") == []
    assert runbooks.matching(severity=Severity.SEV2, service=None, title="Databases down")
    assert runbooks.matching(severity=None, service=None, title="database down")


def test_multi_word_types_and_all_labels_required():
    runbook = make("r", {"types": ["rate limit"], "labels": {"alertname": "A", "env": ["prod*"]}})
    runbooks = RunbookSet(runbooks={"r": runbook})
    assert runbooks.matching(severity=None, service=None, title="Rate limits hit at Stripe")
    assert not runbooks.matching(severity=None, service=None, title="limit rate")
    assert runbooks.matching(
        severity=None, service=None, title="x", labels={"alertname": "a", "env": "production"}
    )
    assert not runbooks.matching(severity=None, service=None, title="x", labels={"alertname": "A"})


DATABASE = {
    "severity": ["sev1", "sev2"],
    "services": ["*-db", "payments-*"],
    "types": ["database", "replication"],
}


def test_a_service_glob_alone_is_not_enough():
    runbooks = RunbookSet(runbooks={"db": make("db", DATABASE)})
    assert not runbooks.matches(
        severity=Severity.SEV1, service="payments-api", title="Checkout latency is up"
    ), "payments-* alone: an unrelated payments incident is not offered a database runbook"
    assert not runbooks.matches(severity=Severity.SEV1, service="orders-db", title="Slow")
    [match] = runbooks.matches(
        severity=Severity.SEV1, service="payments-api", title="Replication lag on the primary"
    )
    assert match.runbook.name == "db" and match.score == 4 | 2 | 1
    assert match.reasons == (
        "service payments-api matches `payments-*`",
        "the title mentions “replication”",
        "severity SEV1",
    )
    [by_label] = RunbookSet(
        runbooks={"db": make("db", {**DATABASE, "labels": {"alertname": "Postgres*"}})}
    ).matches(
        severity=Severity.SEV2,
        service="payments-api",
        title="Checkout latency is up",
        labels={"alertname": "PostgresqlReplicationLagHigh"},
    )
    assert by_label.reasons == (
        "alert label alertname=PostgresqlReplicationLagHigh",
        "service payments-api matches `payments-*`",
        "severity SEV2",
    )


def test_an_exact_service_name_or_catalog_name_counts_alone():
    runbooks = RunbookSet(runbooks={"pay": make("pay", {"services": ["payments-api", "checkout"]})})
    [exact] = runbooks.matches(severity=Severity.SEV3, service="Payments-API", title="Slow")
    assert exact.reasons == ("service Payments-API",)
    assert not runbooks.matches(severity=Severity.SEV3, service="payments-web", title="Slow")
    [alias] = runbooks.matches(
        severity=Severity.SEV3,
        service="checkout-api",
        title="Slow",
        aliases=["checkout-api", "checkout", "checkout-*"],
    )
    assert alias.reasons == ("service checkout-api (also known as `checkout`)",)
    globbed = RunbookSet(runbooks={"g": make("g", {"services": ["checkout*"]})})
    assert not globbed.matches(
        severity=None, service="checkout-api", title="Slow", aliases=["checkout"]
    ), "a glob meeting a catalog alias is still only a glob"


def test_reasons_name_labels_types_and_severity():
    runbooks = RunbookSet(
        runbooks={
            r.name: r
            for r in [
                make("sev1", {"severity": ["sev1"]}),
                make("words", {"types": ["rate limit", "throttl*"]}),
                make("labels", {"labels": {"alertname": "Disk*", "env": ["prod*"]}}),
            ]
        }
    )
    found = runbooks.matches(
        severity=Severity.SEV1,
        service=None,
        title="Stripe is throttling us",
        labels={"alertname": "DiskFull", "env": "production", "team": "x"},
    )
    assert {m.runbook.name: m.reasons for m in found} == {
        "labels": ("alert labels alertname=DiskFull, env=production",),
        "words": ("the title mentions “throttling”",),
        "sev1": ("severity SEV1",),
    }
    assert [m.runbook.name for m in found] == ["labels", "words", "sev1"]
    assert runbooks.matching(severity=Severity.SEV1, service=None, title="x") == [
        runbooks.runbooks["sev1"]
    ]


def test_shipped_database_runbook_is_not_offered_to_any_payments_incident():
    shipped = load_runbooks(SHIPPED)
    unrelated = shipped.matching(
        severity=Severity.SEV1, service="payments-api", title="Card payments failing"
    )
    assert "database-failover-replication-lag" not in [r.name for r in unrelated]
    related = shipped.matching(
        severity=Severity.SEV1, service="payments-api", title="Payments replication lag"
    )
    assert related[0].name == "database-failover-replication-lag"


def test_lookup_and_suggestions():
    runbooks = RunbookSet(runbooks={"db-failover": make("db-failover")})
    assert runbooks.get(" DB-Failover ") is not None
    assert runbooks.closest("db-failvoer") == ["db-failover"]


# --- check CLI --------------------------------------------------------------------------------


def test_check_reports_each_problem_and_a_summary(tmp_path):
    write(tmp_path, "a.yaml", "name: a\ntitle: A\nsteps:\n  - titel: x\n")
    write(tmp_path, "b.yaml", "name: b\nsteps: [x]\n")
    out = io.StringIO()
    assert check_runbooks(tmp_path, out=out) == 1
    lines = out.getvalue().splitlines()
    assert lines == [
        f"problem: {tmp_path}/a.yaml:4: unknown key `titel` in steps[0] — fix: did you mean `title`?",
        f"problem: {tmp_path}/b.yaml:1: `title` is missing — fix: add `title: What this runbook is for`",
        "2 problems in 2 files",
    ]


def test_check_shipped_runbooks_is_ok(capsys):
    assert check_runbooks(SHIPPED) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "ok: 6 runbooks valid"


def test_check_missing_directory_is_a_problem(tmp_path):
    out = io.StringIO()
    assert check_runbooks(tmp_path / "missing", out=out) == 1
    assert out.getvalue().startswith(
        f"problem: {tmp_path}/missing: the runbook directory does not exist"
    )


def test_check_notes_long_runbooks_without_failing(tmp_path):
    write(tmp_path, "long.yaml", runbook_yaml("long", steps=80))
    out = io.StringIO()
    assert check_runbooks(tmp_path, out=out) == 0
    assert out.getvalue().splitlines() == [
        f"note: {tmp_path}/long.yaml:3: 80 steps will be posted across several Slack messages "
        "(about 20 steps each; at most 200 steps)",
        "ok: 1 runbook valid",
    ]


def test_check_notes_a_runbook_matched_by_service_globs_alone(tmp_path):
    match = 'match:\n  severity: [sev1]\n  services: ["payments-*", "*-db"]\n'
    write(tmp_path, "globs.yaml", runbook_yaml("globs", match=match))
    out = io.StringIO()
    assert check_runbooks(tmp_path, out=out) == 0
    [note, ok] = out.getvalue().splitlines()
    assert note.startswith(f"note: {tmp_path}/globs.yaml:5: `match.services` has only globs")
    assert "a glob alone never offers this runbook" in note and "add `types`" in note
    assert ok == "ok: 1 runbook valid"
    write(tmp_path, "globs.yaml", runbook_yaml("globs", match=match + "  types: [payments]\n"))
    assert load_runbooks(tmp_path).notes == []


# --- rendering --------------------------------------------------------------------------------


def texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["text"]] if value.get("type") in ("mrkdwn", "plain_text") else []
        return found + [t for v in value.values() for t in texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in texts(v)]
    return []


def check_limits(messages: list[tuple[str, list[Any]]]) -> None:
    for fallback, blocks in messages:
        dicts = [b.to_dict() for b in blocks]  # slack_sdk validates each block's own limits
        assert len(blocks) <= 50
        ids = [d["block_id"] for d in dicts]
        assert len(ids) == len(set(ids))
        all_text = texts(dicts)
        assert all(len(t) <= 3000 for t in all_text)
        assert sum(len(t) for t in all_text) + len(fallback) < 12_000


def big_step(i: int) -> dict[str, str]:
    return {
        "title": f"Step {i} " + "t" * 140,
        "detail": "<&> " * 625,
        "command": "echo '<&>' && " * 140,
        "link": "https://example.com/" + "p" * 400 + "?a=1&b=2",
    }


def test_eighty_steps_split_into_messages_within_limits():
    runbook = make("long", steps=[f"Step {i}" for i in range(80)])
    messages = runbook_messages(runbook, {}, incident_ref="INC-7", runbook_run_id=9)
    assert len(messages) >= 2
    check_limits(messages)
    values = [
        element["value"]
        for _, blocks in messages
        for block in blocks
        for element in block.to_dict().get("elements", [])
        if element.get("action_id") == RunbookAction.STEP_DONE
    ]
    assert values == [f"9:{i}" for i in range(80)]


def test_maximal_steps_stay_within_limits():
    runbook = make("big", {"types": ["x"]}, steps=[big_step(i) for i in range(12)])
    runbook = runbook.model_copy(update={"description": "<!channel> " * 180})
    done = {i: StepState("done", "U1", AT) for i in range(0, 12, 2)}
    messages = runbook_messages(runbook, done, incident_ref="INC-1", runbook_run_id=1)
    check_limits(messages)
    assert len(messages) == len(runbook_pages(runbook)) >= 2


def step_ids(messages: list[tuple[str, list[Any]]]) -> list[list[str]]:
    return [
        [b.block_id for b in blocks if re.fullmatch(r"step-\d+", b.block_id or "")]
        for _, blocks in messages
    ]


def test_pages_do_not_shift_as_steps_change_state():
    runbook = make("long", steps=[f"Step {i}" for i in range(60)])
    pending = runbook_messages(runbook, {}, incident_ref="INC-7", runbook_run_id=1)
    done = {i: StepState("done", "U1", AT) for i in range(60)}
    finished = runbook_messages(runbook, done, incident_ref="INC-7", runbook_run_id=1)
    assert step_ids(pending) == step_ids(finished)
    assert page_of_step(runbook, 0) == 0 and page_of_step(runbook, 59) == len(pending) - 1


def test_progress_header_and_step_states():
    runbook = make("seven", steps=[f"Step {i}" for i in range(7)])
    progress = {
        0: StepState("done", "U1", AT),
        1: StepState("done", "U2", AT),
        2: StepState("done", "U1", AT),
        3: StepState("skipped", "U3", AT),
    }
    [(fallback, blocks)] = runbook_messages(
        runbook, progress, incident_ref="INC-42", runbook_run_id=5
    )
    dicts = [b.to_dict() for b in blocks]
    assert dicts[0]["type"] == "header" and "Runbook seven" in dicts[0]["text"]["text"]
    assert "*3/7 done, 1 skipped*" in dicts[1]["elements"][0]["text"]
    assert "INC-42" in dicts[1]["elements"][0]["text"] and "3/7 done" in fallback
    step = {d["block_id"]: d for d in dicts}
    assert "Done by <@U1> at <!date^" in step["step-0"]["text"]["text"]
    assert "Skipped by <@U3>" in step["step-3"]["text"]["text"]
    buttons = step["step-4-actions"]["elements"]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        ("runbook_step_done", "5:4"),
        ("runbook_step_skip", "5:4"),
    ]
    for index in (0, 3):  # a done or skipped step can be undone, naming the change it undoes
        [undo] = step[f"step-{index}-actions"]["elements"]
        assert (undo["action_id"], undo["text"]["text"]) == ("runbook_step_undo", "Undo")
        assert undo["value"] == f"5:{index}:0"


def test_complete_runbook_says_so():
    runbook = make("two", steps=["a", "b"])
    progress = {0: StepState("done", "U1", AT), 1: StepState("skipped", "U1", AT)}
    [(fallback, _)] = runbook_messages(runbook, progress, incident_ref="INC-1", runbook_run_id=1)
    assert "complete" in fallback


def test_runbook_text_is_escaped():
    step = {"title": "Ping <!channel> & <@U1>", "detail": "<!here>", "command": "a > b ``` c"}
    runbook = make("esc", steps=[step])
    [(fallback, blocks)] = runbook_messages(runbook, {}, incident_ref="INC-1", runbook_run_id=1)
    rendered = " ".join(texts([b.to_dict() for b in blocks])) + fallback
    assert "<!channel>" not in rendered and "<!here>" not in rendered and "<@U1>" not in rendered
    assert "Ping &lt;!channel&gt; &amp; &lt;@U1&gt;" in rendered
    assert "```a &gt; b `\u200b`\u200b` c```" in rendered


def test_offer_blocks_have_post_buttons():
    offers = [RunbookMatch(make(f"r{i}"), 2, (f"reason {i}",)) for i in range(7)]
    blocks = [b.to_dict() for b in runbook_offer_blocks(offers, incident_id=3)]
    buttons = [b["accessory"] for b in blocks if "accessory" in b]
    assert [b["value"] for b in buttons] == [f"3:r{i}" for i in range(5)]
    assert all(b["action_id"] == "runbook_post" for b in buttons)
    assert "2 more match" in blocks[-1]["elements"][0]["text"]
    assert runbook_offer_blocks([], incident_id=3) == []
    assert ":mag: _reason 0_" in blocks[1]["text"]["text"]


def test_offered_reasons_are_escaped():
    offer = RunbookMatch(make("r"), 8, ("alert label alertname=<!channel> & co",))
    [_, section, _] = [b.to_dict() for b in runbook_offer_blocks([offer], incident_id=1)]
    assert "alertname=&lt;!channel&gt; &amp; co" in section["text"]["text"]


@pytest.mark.parametrize("count", [0, 3, 130])
def test_picker_holds_at_most_a_hundred_options(count):
    runbooks = [make(f"r{i}") for i in range(count)]
    blocks = [b.to_dict() for b in runbook_picker(runbooks, incident_id=8)]
    if count == 0:
        assert "No runbooks" in blocks[0]["text"]["text"]
        return
    select = blocks[0]["accessory"]
    assert select["action_id"] == "runbook_pick"
    assert len(select["options"]) == min(count, 100)
    assert select["options"][0]["value"] == "8:r0"
    assert (len(blocks) == 2) == (count > 100)


def test_picker_lists_the_suggested_runbooks_first_with_why():
    runbooks = [make(f"r{i}") for i in range(4)]
    suggested = [RunbookMatch(runbooks[2], 4, ("service payments-api", "severity SEV1"))]
    [picker] = [b.to_dict() for b in runbook_picker(runbooks, 8, suggested)]
    first, others = picker["accessory"]["option_groups"]
    assert [o["value"] for o in first["options"]] == ["8:r2"]
    assert first["options"][0]["description"]["text"] == "service payments-api · severity SEV1"
    assert [o["value"] for o in others["options"]] == ["8:r0", "8:r1", "8:r3"]
    assert "1 suggested" in picker["text"]["text"]


def test_preview_shows_every_step_within_limits_and_why():
    runbook = make("long", steps=[big_step(i) for i in range(200)])
    match = RunbookMatch(runbook, 2, ("the title mentions “<database>”",))
    blocks = runbook_preview(runbook, 5, match, token="abc123abc123")
    check_limits([("Runbook", blocks)])
    dicts = [b.to_dict() for b in blocks]
    shown = "\n".join(texts(dicts))
    assert "Suggested because* the title mentions “&lt;database&gt;”" in shown
    assert "1. Step 0 " in shown and "200 steps" in shown
    listed = len(re.findall(r"^\d+\. Step", shown, re.M))
    assert 10 < listed < 200 and f"…and {200 - listed} more steps" in shown
    buttons = {e["action_id"]: e for b in dicts if b["type"] == "actions" for e in b["elements"]}
    assert buttons["runbook_preview_post"]["value"] == "5:long:abc123abc123"
    assert set(buttons) == {
        "runbook_preview_post",
        "runbook_preview_back",
        "runbook_preview_cancel",
    }

    short = make("short", steps=["One", "Two"])
    shown = "\n".join(texts([b.to_dict() for b in runbook_preview(short, 5, None, token="t")]))
    assert "Not matched: chosen from all runbooks" in shown and "more step" not in shown
    assert "1. One\n2. Two" in shown
