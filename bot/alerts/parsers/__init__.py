"""Per-tool parsers from a SlackView to Alerts; each returns [] for shapes it does not know."""
