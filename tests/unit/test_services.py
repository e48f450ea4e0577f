"""The service catalog: loading SERVICES_FILE, its problems (file, line, fix), `${VAR}`s, and
finding the service a text or an alert names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import environment
from bot.services import Catalog, Service, load_catalog

README = Path(__file__).parents[2] / "README.md"
KEY = "0123456789abcdef0123456789abcdef"  # 32 characters, like a PagerDuty integration key
DESIGN_EXAMPLE = """\
services:
  - name: checkout-api              # lowercase letters, digits, hyphens; unique
    aliases: [checkout, "checkout-*"]
    owners: [S0123ABCD, U0456EFGH]
    pagerduty:
      routing_key: ${PD_CHECKOUT_KEY}
      escalation_policy: PABC123
    opsgenie: {team: checkout, schedule: checkout_schedule}
    channel: C0CHECKOUT
    runbooks: [checkout-5xx]
    call_link: https://meet.example.com/checkout
    drills: false
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "services.yaml"
    path.write_text(text)
    return path


def only_problem(path: Path, environ: dict[str, str] | None = None) -> str:
    catalog = load_catalog(path, environ or {})
    assert len(catalog.problems) == 1, [str(p) for p in catalog.problems]
    text = str(catalog.problems[0])
    assert text.startswith(f"{path}:") and " — fix: " in text, text
    return text


def service(body: str) -> str:
    """A catalog of one service `a` with `body` (its other keys, indented by four)."""
    return "services:\n  - name: a\n" + body


# --- bad input -------------------------------------------------------------------------------

BAD_FILES = {
    "invalid YAML": (service("    channel: a: b\n"), ":3: invalid YAML: mapping values are not allowed here — fix: check the indentation"),
    "unclosed quote": (service('    call_link: "https://x\n'), ":3: invalid YAML: a quote is opened but never closed — fix: close the quote"),
    "tabs": ("services:\n\t- name: a\n", ":2: invalid YAML: a tab is used for indentation — fix: indent with spaces"),
    "two documents": ("services: []\n---\nservices: []\n", ":2: the file holds more than one YAML document (`---`) — fix: keep every service under one `services:` list"),
    "empty file": ("# nothing yet\n", "services.yaml: the file is empty — fix: list services under `services:`"),
    "a list at the top": ("- name: a\n", ":1: the file holds a list, not a service catalog — fix: start the file with `services:`"),
    "misspelt top key": ("servics:\n  - name: a\n", ":1: unknown key `servics` — fix: did you mean `services`?"),
    "services is text": ("services: checkout\n", ":1: services is text, not a list — fix: write one `- item` per line under it"),
    "services is empty": ("services:\n", ":1: services is empty — fix: list the services under it, or write `services: []`"),
    "a service is text": ("services:\n  - checkout\n", ":2: services[0] is text, not a service — fix: write each service as `- name: my-service`"),
    "no name": ("services:\n  - channel: C0CHECKOUT\n", ":2: services[0] has no `name` — fix: add `name: my-service`"),
    "bad name": ("services:\n  - name: Checkout API!\n", ":2: services[0].name `Checkout API!` is not a valid name — fix: use lowercase letters, digits and hyphens, e.g. `checkout-api`"),
    "long name": (f"services:\n  - name: {'a' * 81}\n", ":2: services[0].name is 81 characters; the limit is 80 — fix: use a shorter name"),
    "duplicate names": ("services:\n  - name: a\n  - name: b\n  - name: a\n", ":4: services[2].name `a` is also used by services[0] (line 2) — fix: rename one of them; names must be unique"),
    "duplicate key": (service("    channel: C0ONE\n    channel: C0TWO\n"), ":4: key `channel` appears twice (lines 3 and 4) — fix: keep one of them"),
    "misspelt key": (service("    chanel: C0CHECKOUT\n"), ":3: unknown key `chanel` in services[0] — fix: did you mean `channel`?"),
    "a word for a key": (service("    owner: U0456EFGH\n"), ":3: unknown key `owner` in services[0] — fix: did you mean `owners`?"),
    "misspelt pager key": (service(f"    pagerduty:\n      routingkey: {KEY}\n"), ":4: unknown key `routingkey` in services[0].pagerduty — fix: did you mean `routing_key`?"),
    "a key YAML reads as true": (service("    on: call\n"), ":3: unknown key `on` in services[0] — fix: remove it; allowed here:"),
    "no close key": (service("    colour: red\n"), ":3: unknown key `colour` in services[0] — fix: remove it; allowed here: `name`, `aliases`, `owners`, `pagerduty`"),
    "aliases a mapping": (service("    aliases: {checkout: yes}\n"), ":3: services[0].aliases is a mapping, not a list — fix: write one `- item` per line"),
    "number for text": (service("    aliases: [checkout, 42]\n"), ':3: services[0].aliases[1] is a number (`42`), not text — fix: put it in quotes: "42"'),
    "drills not true/false": (service("    drills: sometimes\n"), ":3: services[0].drills is text, not true/false — fix: write true or false"),
    "pagerduty a list": (service("    pagerduty: [a]\n"), ":3: services[0].pagerduty is a list, not a mapping — fix: write `key: value` lines"),
    "variable in brackets": (service("    pagerduty: {routing_key: ${PD_KEY}}\n"), ":3: invalid YAML: expected ',' or '}', but got '{' while parsing a flow mapping — fix: put `${VAR}` in quotes (\"${VAR}\")"),
    "unset variable": (service("    pagerduty:\n      routing_key: ${PD_KEY}\n"), ":4: services[0].pagerduty.routing_key uses `${PD_KEY}`, but the environment variable PD_KEY is not set — fix: set PD_KEY in the bot's environment (or its .env file)"),
    "unset variable in any text": (service("    call_link: https://meet.example.com/${ROOM}\n"), ":3: services[0].call_link uses `${ROOM}`, but the environment variable ROOM is not set — fix: set ROOM"),
    "short routing key": (service("    pagerduty: {routing_key: R0UTING}\n"), ":3: services[0].pagerduty.routing_key is 7 characters; a PagerDuty routing key has 32 — fix: copy the Integration Key"),
    "pagerduty with neither": (service("    pagerduty: {}\n"), ":3: services[0].pagerduty has neither `routing_key` nor `escalation_policy` — fix: add `routing_key:` (to page it) or `escalation_policy:`"),
    "pagerduty with nothing": (service("    pagerduty:\n"), ":3: services[0].pagerduty has neither `routing_key` nor `escalation_policy`"),
    "opsgenie with neither": (service("    opsgenie:\n"), ":3: services[0].opsgenie has neither `team` nor `schedule` — fix: add `team:`"),
    "call link not http": (service("    call_link: meet.example.com/checkout\n"), ":3: services[0].call_link `meet.example.com/checkout` is not an http(s) URL — fix: write a full URL starting with https://"),
    "owner a name": (service("    owners: [S0123ABCD, \"@dana\"]\n"), ":3: services[0].owners[1] `@dana` is not a Slack user ID (U…/W…) or user-group ID (S…) — fix: use IDs"),
    "owner a channel": (service("    owners:\n      - C0CHECKOUT\n"), ":4: services[0].owners[0] `C0CHECKOUT` is not a Slack user ID"),
    "channel a name": (service("    channel: \"#checkout\"\n"), ":3: services[0].channel `#checkout` is not a channel ID — fix: use the channel's ID, like C0123ABCD (channel details > About)"),
    "channel a user": (service("    channel: U0456EFGH\n"), ":3: services[0].channel `U0456EFGH` is not a channel ID"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_file_gives_one_problem_with_its_line_and_fix(tmp_path, case):
    text, expected = BAD_FILES[case]
    path = write(tmp_path, text)
    assert expected in only_problem(path)


def test_a_routing_key_is_measured_after_its_variable_is_read(tmp_path):
    path = write(tmp_path, service("    pagerduty:\n      routing_key: ${PD_KEY}\n"))
    assert ":4: services[0].pagerduty.routing_key is 10 characters; a PagerDuty routing key " in (
        only_problem(path, {"PD_KEY": "0123456789"})
    )
    assert load_catalog(path, {"PD_KEY": KEY}).problems == []


def test_an_empty_variable_is_unset(tmp_path):
    path = write(tmp_path, service("    pagerduty:\n      routing_key: ${PD_KEY}\n"))
    assert "the environment variable PD_KEY is not set" in only_problem(path, {"PD_KEY": ""})


def test_every_problem_is_listed_in_line_order_and_valid_services_still_load(tmp_path):
    text = (
        "services:\n"
        "  - name: checkout-api\n"
        "    channel: C0CHECKOUT\n"
        "  - name: Search\n"
        "    owners: [dana]\n"
        "  - name: payments\n"
        '    pagerduty: {routing_key: "${PD_PAYMENTS}"}\n'
        "  - name: checkout-api\n"
        "extra: true\n"
    )
    catalog = load_catalog(write(tmp_path, text), {})
    lines = [(p.line, p.message.split(" ")[0]) for p in catalog.problems]
    assert lines == [
        (4, "services[1].name"),
        (5, "services[1].owners[0]"),
        (7, "services[2].pagerduty.routing_key"),
        (8, "services[3].name"),
        (9, "unknown"),
    ]
    assert all(p.fix for p in catalog.problems)
    assert list(catalog.services) == ["checkout-api"]  # the first; the others are not valid
    assert catalog.lines == {"checkout-api": 2}


def test_a_missing_services_key_is_not_reported_twice(tmp_path):
    catalog = load_catalog(write(tmp_path, "service:\n  - name: a\n"), {})
    assert [p.message for p in catalog.problems] == ["unknown key `service`"]
    assert catalog.problems[0].fix == "did you mean `services`?"


# --- good input ------------------------------------------------------------------------------


def test_the_design_example_loads_with_its_variable_read(tmp_path):
    path = write(tmp_path, DESIGN_EXAMPLE)
    catalog = load_catalog(path, {"PD_CHECKOUT_KEY": KEY})
    assert catalog.problems == [] and catalog.ok and catalog.source == path
    checkout = catalog.services["checkout-api"]
    assert checkout.pagerduty is not None and checkout.pagerduty.routing_key == KEY
    assert checkout.pagerduty.escalation_policy == "PABC123"
    assert checkout.opsgenie is not None and checkout.opsgenie.team == "checkout"
    assert checkout.aliases == ("checkout", "checkout-*")
    assert checkout.owners == ("S0123ABCD", "U0456EFGH")
    assert (checkout.channel, checkout.runbooks) == ("C0CHECKOUT", ("checkout-5xx",))
    assert checkout.call_link == "https://meet.example.com/checkout" and not checkout.drills
    assert checkout.pageable and checkout.has_oncall
    assert catalog.lines == {"checkout-api": 2}


def test_single_values_may_stand_for_lists_and_a_variable_may_be_part_of_a_text(tmp_path):
    text = service(
        "    aliases: checkout\n    owners: U0456EFGH\n"
        "    call_link: https://meet.example.com/${ROOM}\n    opsgenie: {schedule: s}\n"
    )
    catalog = load_catalog(write(tmp_path, text), {"ROOM": "war-room"})
    assert catalog.problems == []
    a = catalog.services["a"]
    assert (a.aliases, a.owners) == (("checkout",), ("U0456EFGH",))
    assert a.call_link == "https://meet.example.com/war-room"
    assert a.has_oncall and not a.pageable


def test_readme_example_is_valid(tmp_path):
    section = README.read_text().split("## Service catalog", 1)[1]
    example = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert example is not None
    variables = {name: KEY for name in re.findall(r"\$\{(\w+)\}", example.group(1))}
    catalog = load_catalog(write(tmp_path, example.group(1)), variables)
    assert catalog.problems == [] and len(catalog.services) >= 2


def test_no_file_is_an_empty_catalog_and_an_empty_list_is_too(tmp_path):
    absent = load_catalog(tmp_path / "services.yaml", {})
    assert absent.services == {} and absent.problems == [] and not absent
    empty = load_catalog(write(tmp_path, "services: []\n"), {})
    assert empty.services == {} and empty.problems == []


def test_a_folder_is_a_problem(tmp_path):
    catalog = load_catalog(tmp_path, {})
    assert [str(p) for p in catalog.problems] == [
        f"{tmp_path}: SERVICES_FILE is a folder, not a file — fix: point SERVICES_FILE at a YAML file"
    ]


def test_variables_come_from_the_environment_over_dot_env(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("PD_CHECKOUT_KEY=from-dotenv\nROOM=kept\n")
    monkeypatch.setenv("PD_CHECKOUT_KEY", "from-environment")
    values = environment(tmp_path / ".env")
    assert values["PD_CHECKOUT_KEY"] == "from-environment" and values["ROOM"] == "kept"


# --- runbooks named by services --------------------------------------------------------------


def test_runbooks_a_service_names_must_exist(tmp_path):
    text = DESIGN_EXAMPLE + "  - name: search\n    runbooks: [search-down, reindex]\n"
    catalog = load_catalog(write(tmp_path, text), {"PD_CHECKOUT_KEY": KEY})
    problems = [str(p) for p in catalog.unknown_runbooks({"checkout-5xx-errors", "reindex"})]
    assert problems == [
        f"{tmp_path}/services.yaml:2: service `checkout-api` lists runbook `checkout-5xx`, which "
        "is not in RUNBOOKS_DIR — fix: did you mean `checkout-5xx-errors`?",
        f"{tmp_path}/services.yaml:13: service `search` lists runbook `search-down`, which is not "
        "in RUNBOOKS_DIR — fix: add a runbook of that name to RUNBOOKS_DIR, or remove it from "
        "`runbooks:`",
    ]


# --- finding services ------------------------------------------------------------------------


def catalog_of(*services: dict[str, object]) -> Catalog:
    built = [Service.model_validate(s) for s in services]
    return Catalog(services={s.name: s for s in built})


CATALOG = catalog_of(
    {"name": "checkout-api", "aliases": ["checkout", "checkout-*"]},
    {"name": "search", "aliases": ["search-*", "elastic"]},
    {"name": "payments-api"},
    {"name": "api-gateway"},
)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("checkout-api", "checkout-api"),
        (" Checkout-API ", "checkout-api"),
        ("checkout", "checkout-api"),
        ("checkout-worker", "checkout-api"),
        ("Checkout errors after the deploy", "checkout-api"),
        ("search-indexer", "search"),
        ("Elastic cluster red", "search"),
        ("payments-api latency", "payments-api"),
        ("database down", None),
        ("", None),
        (None, None),
    ],
)
def test_find_by_name_alias_glob_then_title_words(text, found):
    service = CATALOG.find(text)
    assert (service.name if service else None) == found


def test_for_labels_reads_service_then_job_then_app():
    labels = {"app": "payments-api", "job": "elastic", "service": "checkout-worker"}
    assert (found := CATALOG.for_labels(labels)) and found.name == "checkout-api"
    del labels["service"]
    assert (found := CATALOG.for_labels(labels)) and found.name == "search"
    del labels["job"]
    assert (found := CATALOG.for_labels(labels)) and found.name == "payments-api"
    assert CATALOG.for_labels({"alertname": "checkout"}) is None
    found = CATALOG.for_labels({"service": "unknown", "app": "search-api"})
    assert found and found.name == "search"


def test_search_puts_names_starting_with_the_text_first():
    assert [s.name for s in CATALOG.search("api")] == [
        "api-gateway",
        "checkout-api",
        "payments-api",
    ]
    assert [s.name for s in CATALOG.search("")] == [
        "api-gateway",
        "checkout-api",
        "payments-api",
        "search",
    ]
    assert [s.name for s in CATALOG.search("elastic")] == ["search"]
    assert [s.name for s in CATALOG.search("a", limit=2)] == ["api-gateway", "checkout-api"]
    assert CATALOG.search("nothing") == []


def test_get_ignores_case_and_an_empty_catalog_is_false():
    assert CATALOG.get(" SEARCH ") is CATALOG.services["search"]
    assert CATALOG and not Catalog()
