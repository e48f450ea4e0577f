"""The Slack bot scopes the app needs: what manifests/ ask for (tests/unit/test_manifest.py
keeps them equal), and what `check-config` expects the token to have."""

SCOPES = frozenset(
    {
        "channels:history",
        "channels:join",
        "channels:manage",
        "channels:read",
        "chat:write",
        "commands",
        "files:write",
        "groups:history",
        "groups:read",
        "groups:write",
        "im:write",
        "pins:read",
        "pins:write",
        "reactions:read",
        "usergroups:read",
        "users:read",
        "users:read.email",
    }
)
