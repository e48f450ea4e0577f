"""Load the service catalog (SERVICES_FILE) with `${VAR}`s filled in, and every YAML, schema or
environment problem as a line and a fix. No file is an empty catalog."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from bot import yamldocs
from bot.services.model import Catalog, CatalogProblem, OpsgenieTarget, PagerDutyTarget, Service
from bot.yamldocs import Error, Finding, Loc

SCHEMA_HINT = 'see the README\'s "Service catalog" section for the format'
_PAGERS: dict[str, type[BaseModel]] = {"pagerduty": PagerDutyTarget, "opsgenie": OpsgenieTarget}
_ALIASES = {
    "service": "services", "id": "name", "slug": "name", "alias": "aliases", "owner": "owners",
    "slack_channel": "channel", "channel_id": "channel", "runbook": "runbooks",
    "call": "call_link", "link": "call_link", "url": "call_link", "meet": "call_link",
    "drill": "drills", "pd": "pagerduty", "pager": "pagerduty", "og": "opsgenie",
    "key": "routing_key", "integration_key": "routing_key", "service_key": "routing_key",
    "policy": "escalation_policy", "escalation": "escalation_policy", "rotation": "schedule",
}  # fmt: skip
_MISSING_FIXES = {
    "services": "add `services:` with one `- name: my-service` entry per service",
    "name": "add `name: my-service` (lowercase letters, digits and hyphens; it is what people "
    "type in `/incident page` and `/incident oncall`)",
}
_LIMIT_FIXES = {
    "name": "use a shorter name",
    "call_link": "use a shorter URL (a short link or the room's canonical address)",
}
_SERVICE_FIX = "write each service as `- name: my-service` with its other keys indented under it"


class CatalogFile(BaseModel):
    """The file's top level: one `services:` list (each entry is validated on its own)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    services: list[Any]


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The schema level a location points into (for "did you mean" on unknown keys)."""
    if not loc:
        return CatalogFile
    if loc[0] != "services" or len(loc) < 2 or not isinstance(loc[1], int):
        return None
    return Service if len(loc) == 2 else _PAGERS.get(str(loc[2])) if len(loc) == 3 else None


def _explain_catalog(error: Error) -> tuple[str, str] | None:
    """What only the catalog has to say: about its list of services."""
    loc, kind, value = tuple(error["loc"]), error["type"], error.get("input")
    if loc == ("services",) and kind == "list_type" and value is None:
        return "services is empty", "list the services under it, or write `services: []`"
    shape = kind in ("dict_type", "model_type", "model_attributes_type")
    if shape and len(loc) == 2 and loc[0] == "services":
        return f"{yamldocs.where(loc)} is {yamldocs.kind(value)}, not a service", _SERVICE_FIX
    return None


SCHEMA = yamldocs.Schema(
    what="a service catalog",
    hint=SCHEMA_HINT,
    model_at=_model_at,
    whole="the catalog",
    empty_fix="list services under `services:`, write `services: []`, or delete the file",
    top_fix="start the file with `services:` and list the services under it",
    one_document="keep every service under one `services:` list, in one document",
    name_example="my-service",
    aliases=_ALIASES,
    missing_fixes=_MISSING_FIXES,
    limit_fixes=_LIMIT_FIXES,
    explain_first=_explain_catalog,
    placeholders=True,
)


def load_catalog(path: Path, environ: Mapping[str, str]) -> Catalog:
    """The catalog in `path`, its `${VAR}`s read from `environ`, with problems instead of
    exceptions; services that are valid load even when others are not."""
    catalog = Catalog(source=path)
    document = yamldocs.open_document(path, SCHEMA, "SERVICES_FILE")
    if not isinstance(document, yamldocs.Document):
        catalog.problems += [document] if document else []
        return catalog
    findings = _read(document, environ, catalog)
    catalog.problems.extend(
        CatalogProblem(path, *f) for f in sorted(findings, key=lambda f: f.line or 0)
    )
    return catalog


def _read(document: yamldocs.Document, environ: Mapping[str, str], into: Catalog) -> list[Finding]:
    """Validate the document, adding its valid services to `into`; returns what is wrong."""
    root = document.root
    data, missing = yamldocs.substitute(document.data, environ)
    findings = yamldocs.duplicate_keys(root) + yamldocs.unset_variables(root, missing)
    findings += yamldocs.validate(CatalogFile, data, root, SCHEMA)[1]
    entries = data.get("services")
    if not isinstance(entries, list):
        return findings
    reported = {loc for loc, _ in missing}
    for index, entry in enumerate(entries):
        at = ("services", index)
        service, errors = yamldocs.validate(
            Service, _pagers_present(entry), root, SCHEMA, at=at, skip=reported
        )
        findings += errors
        if service is not None and service.name not in into.services:
            into.services[service.name] = service
            into.lines[service.name] = yamldocs.line_at(root, at) or 1
    return findings + yamldocs.duplicate_names(root, _names(entries))


def _pagers_present(entry: Any) -> Any:
    """An empty `pagerduty:` or `opsgenie:` is a pager with nothing in it, not no pager."""
    if not isinstance(entry, dict):
        return entry
    return {k: {} if k in _PAGERS and v is None else v for k, v in entry.items()}


def _names(entries: list[Any]) -> Iterator[tuple[str, Loc]]:
    for index, entry in enumerate(entries):
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            yield entry["name"].strip().lower(), ("services", index, "name")
