"""`--demo`: a full incident played on the page with a person's clicks, then handed over."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import structlog

from bot.sandbox.client import ClientError, SandboxClient, Target
from bot.sandbox.elements import Found, elements, initial_values, label_of
from bot.sandbox.fake.slack_state import BOT_USER_ID, ts_key
from bot.slack.ids import Callback

if TYPE_CHECKING:
    from bot.sandbox.runner import Sandbox

log = structlog.get_logger(__name__)
T = TypeVar("T")
IC, RESPONDER, COMMS = "U_ALICE", "U_BOB", "U_CAROL"
WAIT_SECONDS = 10.0
TITLE = "Checkout API error rate above 5%"
SERVICE, PAGE_MESSAGE = "checkout-api", "Error rate above 5% since the last deploy"


class Walkthrough:
    """Plays alert → declare → IC → page → runbook → updates → resolve → postmortem, then
    hands over.

    Every step is what a person could click or type on the page; a step whose button or
    answer the bot does not offer (yet) is skipped with a note saying so.
    """

    def __init__(self, sandbox: Sandbox, *, pause: float = 2.5) -> None:
        assert sandbox.channels is not None and sandbox.page is not None
        self.sandbox = sandbox
        self.client: SandboxClient = sandbox.client
        self.alerts = sandbox.page.alerts
        self.fake = sandbox.fake
        self.channels = sandbox.channels
        self.pause = pause
        self.steps = itertools.count(1)
        self.room: str | None = None
        self.resolved_at = 0
        self.skipped: list[str] = []

    # -- narration and waiting ------------------------------------------------------------------

    def say(self, text: str, status: str = "running") -> None:
        step = next(self.steps)
        self.sandbox.hub.send({"type": "narration", "text": text, "status": status, "step": step})
        log.info("demo_step", step=step, status=status, text=text)

    def skip(self, what: str, why: str) -> None:
        self.skipped.append(what)
        self.say(f"Skipped: {what} — {why}", "skipped")

    def focus(self, channel: str, thread: str | None = None) -> None:
        self.sandbox.hub.send({"type": "focus", "channel": channel, "thread": thread})

    async def breathe(self, factor: float = 1.0) -> None:
        await asyncio.sleep(self.pause * factor)

    async def until(self, check: Callable[[], T | None], wait: float = WAIT_SECONDS) -> T | None:
        """Wait (on workspace changes, not polling) until `check` returns something."""
        return await self.sandbox.hub.until(check, wait)

    # -- finding what the bot offers ------------------------------------------------------------

    def find(
        self, channel: str, action_ids: tuple[str, ...], label: str, *, user: str = IC
    ) -> Found | None:
        """The newest element with one of `action_ids` (or a label matching `label`)."""
        pattern = re.compile(label, re.IGNORECASE)
        posts = [
            (m["ts"], m.get("blocks")) for m in self.fake.messages(channel) if m.get("blocks")
        ] + [
            (e["message_ts"], e.get("blocks"))
            for e in self.fake.ephemerals
            if e["channel"] == channel and e.get("user") == user and e.get("blocks")
        ]
        for ts, blocks in sorted(posts, key=lambda p: ts_key(p[0]), reverse=True):
            for block, element in elements(blocks):
                if element["action_id"] in action_ids or pattern.search(label_of(element)):
                    return Found(channel, ts, block, element)
        return None

    def bot_replies(self, channel: str, user: str = IC) -> list[str]:
        """What the bot has told `user` in `channel` so far (ephemerals), oldest first."""
        return [
            str(e.get("text") or "")
            for e in self.fake.ephemerals
            if e["channel"] == channel and e.get("user") == user
        ]

    async def click(self, found: Found, user: str = IC, **selection: Any) -> bool:
        result = await self.client.click(
            user,
            Target(channel=found.channel, ts=found.ts),
            found.element["action_id"],
            found.block["block_id"],
            selection or None,
        )
        return bool(result.get("ok"))

    async def type(self, channel: str, text: str, user: str = IC) -> str | None:
        """Type into the message box; the bot's answer to a command only `user` sees (if any)."""
        replies, posts = len(self.bot_replies(channel, user)), len(self.fake.messages(channel))

        def reacted() -> bool | None:
            answered = len(self.bot_replies(channel, user)) > replies
            return answered or len(self.fake.messages(channel)) > posts or None

        await self.client.send(user, channel, text)
        if not text.startswith("/"):
            return None
        await self.until(reacted, 4.0)
        answers = self.bot_replies(channel, user)[replies:]
        return answers[-1] if answers else None

    async def accept_modal(self, user: str = IC, **fill: Any) -> dict[str, Any] | None:
        """Submit the modal open for `user` with its pre-filled answers (and `fill`), once
        the bot has filled it in (a form that needs stored data opens as "Loading…")."""

        def filled() -> dict[str, Any] | None:
            view = self.client.modal_of(user)
            return view if view and view.get("callback_id") != Callback.LOADING else None

        view = await self.until(filled, 5.0)
        if view is None:
            return None
        await self.breathe(0.8)
        values = initial_values(view)
        for block_id, text in fill.items():
            if block_id in values:
                action_id = next(iter(values[block_id]))
                values[block_id][action_id] = {"type": "plain_text_input", "value": text}
        result = await self.client.submit(user, view["id"], values)
        if result.get("errors"):
            self.say(f"The form asked for corrections: {result['errors']}", "skipped")
            await self.client.close(user, view["id"])
        return view

    # -- the walkthrough -----------------------------------------------------------------------

    async def run(self) -> None:
        steps = (
            self.alert,
            self.declare,
            self.take_command,
            self.page_oncall,
            self.investigate,
            self.runbook,
            self.communicate,
            self.resolve,
            self.postmortem,
        )
        self.say("Demo: a full incident, played with the same clicks you can make. Watch along.")
        await self.breathe()
        for step in steps:
            try:
                await step()
            except (ClientError, LookupError, ValueError) as exc:
                self.skip(step.__name__, f"it could not be played ({exc})")
            await self.breathe()
        self.hand_over()

    async def alert(self) -> None:
        alerts = self.channels.alerts
        self.focus(alerts)
        self.say("Alertmanager posts a critical alert in #alerts-prod.")
        await self.alerts.post("alertmanager", "checkout-api")
        card = await self.until(lambda: self.find(alerts, ("alert_declare",), r"^declare"), 5.0)
        if card is None:
            self.skip("the alert card", "the bot posted no Declare button for the alert")
            return
        posted = self.fake.find_message(alerts, card.ts) or {}
        self.focus(alerts, posted.get("thread_ts"))
        self.say("The bot groups the alert and offers to declare an incident from it.")

    def _new_room(self) -> str | None:
        rooms = [
            c["id"]
            for c in self.fake.channels()
            if c.get("creator") == BOT_USER_ID and not c.get("is_im") and c["id"] != self.room
        ]
        return rooms[-1] if rooms else None

    async def declare(self) -> None:
        alerts = self.channels.alerts
        card = self.find(alerts, ("alert_declare",), r"^declare")
        if card is not None:
            self.say("Alice clicks Declare incident on the alert card.")
            await self.click(card)
            if await self.accept_modal() is not None:
                self.say("The declare form opened pre-filled from the alert; Alice submits it.")
        if card is None or await self.until(self._new_room, 5.0) is None:
            self.say(f"Alice types /incident declare sev2 {TITLE} in #incidents.")
            self.focus(self.channels.incidents)
            answer = await self.type(self.channels.incidents, f"/incident declare sev2 {TITLE}")
            if await self.until(self._new_room, 5.0) is None:
                raise LookupError(f"no war room was opened; the bot said: {answer or 'nothing'}")
        self.room = await self.until(self._new_room)
        assert self.room is not None
        self.focus(self.room)
        name = self.fake.live(self.room)["name"]
        self.say(f"The bot opened the war room #{name}, invited Alice and pinned a summary.")

    async def take_command(self) -> None:
        room = self._room()
        take = await self.until(lambda: self.find(room, ("take_role",), r"^take ic"), 5.0)
        if take is None:
            self.say("Alice types /incident ic to take command.")
            await self.type(room, "/incident ic")
        else:
            self.say("Alice clicks Take IC: she is now the incident commander.")
            await self.click(take)

    async def page_oncall(self) -> None:
        room, pagers = self._room(), self.sandbox.pagers
        self.say(f"Alice pages checkout-api's on-call: /incident page {SERVICE} {PAGE_MESSAGE}")
        answer = await self.type(room, f"/incident page {SERVICE} {PAGE_MESSAGE}")

        def arrived() -> dict[str, Any] | None:
            pages = [p for p in pagers.pages() if p["service"] == SERVICE]
            return pages[0] if pages and pages[0]["can_acknowledge"] else None

        page = await self.until(arrived)
        if page is None:
            self.skip("paging", f"PagerDuty got no page (the bot said: {answer or 'nothing'})")
            return
        person = page["oncall"][0]
        self.say(f"PagerDuty pages {person}, on call for {SERVICE}: see the Pager panel.")
        await self.breathe()
        self.say(
            f"{person} acknowledges (the panel's Acknowledge): the war room hears they're coming."
        )
        acknowledged = await pagers.acknowledge(page["pager"], page["key"])
        if not acknowledged["ok"]:
            self.skip("the acknowledgement", f"the bot answered HTTP {acknowledged['status']}")

    async def investigate(self) -> None:
        room = self._room()
        self.say("Bob joins and reports what he sees; Alice pins it to the timeline with 📌.")
        await self.client.send(
            RESPONDER, room, "5xx on checkout-api started with deploy 2024.11.27-2; rolling back."
        )
        stamp = next(
            (m["ts"] for m in reversed(self.fake.messages(room)) if m.get("user") == RESPONDER),
            None,
        )
        if stamp is not None:
            await self.breathe(0.5)
            await self.client.react(IC, room, stamp, "pushpin")

    async def runbook(self) -> None:
        room = self._room()
        offer = self.find(room, ("runbook_post",), r"^post runbook")
        if offer is not None:
            self.say("The bot offered matching runbooks; Alice posts one.")
            await self.click(offer)
        else:
            self.say("Alice asks for a runbook: /incident runbook")
            await self.type(room, "/incident runbook")
            picker = await self.until(lambda: self.find(room, ("runbook_pick",), r"runbook"), 4.0)
            menu = picker.element if picker else {}
            groups = menu.get("option_groups") or [{"options": menu.get("options") or []}]
            options = [option for group in groups for option in group.get("options") or []]
            if picker is None or not options:
                self.skip("runbook steps", "the bot offered no runbook (no runbooks loaded?)")
                return
            await self.click(picker, selected_option=options[0])
            self.say("The bot shows the runbook's steps first; Alice posts it.")
            preview = await self.until(
                lambda: self.find(room, ("runbook_preview_post",), r"^post runbook$"), 4.0
            )
            if preview is None:
                self.skip("runbook steps", "the bot showed no runbook preview")
                return
            await self.click(preview)
        done = await self.until(lambda: self.find(room, ("runbook_step_done",), r"^done$"), 5.0)
        if done is None:
            self.skip("runbook steps", "the posted runbook has no Done buttons")
            return
        for _ in range(2):
            step = self.find(room, ("runbook_step_done",), r"^done$")
            if step is None:
                break
            self.say("Alice marks the next runbook step done.")
            await self.click(step)

            def gone(step: Found = step) -> bool | None:
                return self._clicked_away(step) or None

            if await self.until(gone) is None:
                self.skip("runbook steps", "the bot did not show the step as done")
                return
            await self.breathe(0.6)

    def _clicked_away(self, found: Found) -> bool:
        """Whether the bot has updated `found`'s message so the clicked button is gone."""
        message = self.fake.find_message(found.channel, found.ts) or {}
        return not any(
            block.get("block_id") == found.block.get("block_id")
            and element.get("action_id") == found.element["action_id"]
            and element.get("value") == found.element.get("value")
            for block, element in elements(message.get("blocks"))
        )

    async def communicate(self) -> None:
        room = self._room()
        self.say("Alice sets the status: /incident status identified")
        await self.type(room, "/incident status identified")
        await self.breathe(0.6)
        self.say("Alice posts a stakeholder update; it also goes to #incident-status.")
        answer = await self.type(
            room, "/incident update Rolled back the bad deploy; error rate is falling."
        )
        if answer and answer.startswith(":warning:"):
            self.skip("the stakeholder update", f"the bot answered: {answer}")
        await self.breathe(0.6)
        self.say("The fix holds: /incident status monitoring")
        await self.type(room, "/incident status monitoring")

    async def resolve(self) -> None:
        room = self._room()
        self.resolved_at = len(self.fake.messages(room))
        button = self.find(room, ("resolve",), r"^resolve$")
        if button is not None:
            self.say("Alice clicks Resolve and fills in the resolution.")
            await self.click(button)
            summary = "Rolled back deploy 2024.11.27-2; checkout error rate back to 0.4%."
            if await self.accept_modal(resolution=summary) is not None:
                return
        self.say("Alice resolves it: /incident resolve Rolled back the bad deploy.")
        answer = await self.type(room, "/incident resolve Rolled back the bad deploy.")
        if answer and answer.startswith(":warning:"):
            self.skip("resolving", f"the bot answered: {answer}")

    def _drafted(self, room: str) -> bool:
        """Whether the bot has posted a postmortem draft since the incident was resolved."""
        return any(
            m.get("user") == BOT_USER_ID
            and ("postmortem" in str(m.get("text", "")).lower() or m.get("files"))
            for m in self.fake.messages(room)[self.resolved_at :]
        )

    async def postmortem(self) -> None:
        room = self._room()
        if await self.until(lambda: self._drafted(room) or None, 2.0):
            self.say("On resolving, the bot drafted the postmortem from the timeline.")
            return
        self.say("Alice asks for the postmortem draft: /incident postmortem")
        before = len(self.fake.messages(room))
        answer = await self.type(room, "/incident postmortem")
        posted = await self.until(
            lambda: len(self.fake.messages(room)) > before or None, 4.0 if answer else 6.0
        )
        if posted is None and answer:
            self.skip("the postmortem", f"the bot answered: {answer}")

    def hand_over(self) -> None:
        if self.room is not None:
            self.focus(self.room)
        skipped = f" (skipped: {', '.join(self.skipped)})" if self.skipped else ""
        self.say(
            "Your turn: act as anyone with the switch on the left, type /incident help, "
            "simulate an alert storm, page an on-call and acknowledge on the Pager panel, "
            f"or declare your own incident.{skipped}",
            "done",
        )

    def _room(self) -> str:
        if self.room is None:
            raise LookupError("there is no war room (declaring did not work)")
        return self.room
