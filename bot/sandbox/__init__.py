"""The sandbox: the real bot against a built-in local Slack stand-in, with a web page."""
