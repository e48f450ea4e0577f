"""Files people write in YAML (runbooks, the service catalog, rules): every syntax or schema
error as a line and a fix, "did you mean" for misspelt keys, and `${VAR}` placeholders.

Each kind of file describes itself once in a `Schema`; the functions here do the rest, so
every file the bot reads reports its problems the same way. Import them from here.
"""

from bot.yamldocs.errors import closest, explain, suggest, translate, validate
from bot.yamldocs.parse import (
    duplicate_keys,
    duplicate_names,
    kind,
    line_at,
    load_mapping,
    open_document,
    read_text,
    where,
)
from bot.yamldocs.placeholders import substitute, unset_variables
from bot.yamldocs.schema import Document, Error, FileProblem, Finding, Loc, Schema

__all__ = [
    "Document",
    "Error",
    "FileProblem",
    "Finding",
    "Loc",
    "Schema",
    "closest",
    "duplicate_keys",
    "duplicate_names",
    "explain",
    "kind",
    "line_at",
    "load_mapping",
    "open_document",
    "read_text",
    "substitute",
    "suggest",
    "translate",
    "unset_variables",
    "validate",
    "where",
]
