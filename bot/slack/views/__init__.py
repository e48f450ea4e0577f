"""Pure functions from domain objects to Block Kit (slack_sdk.models); no I/O."""
