"""Re-export of bot.sandbox.fake.blockkit (Block Kit limits) for test imports."""

from bot.sandbox.fake.blockkit import BlockKitError, check_message, check_view

__all__ = ["BlockKitError", "check_message", "check_view"]
