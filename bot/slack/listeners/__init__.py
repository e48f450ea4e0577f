"""Bolt listeners; each module has one `register(app, deps)`."""
