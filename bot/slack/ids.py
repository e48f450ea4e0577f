"""Every Slack action, block and callback id the bot uses, in one place."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """action_id values of interactive elements."""

    TAKE_ROLE = "take_role"
    ASSIGN_ROLE = "assign_role"  # users_select; the role follows after a colon
    STEP_DOWN = "step_down"
    SET_STATUS = "set_status"
    SET_SEVERITY = "set_severity"
    RESOLVE = "resolve"
    POST_UPDATE = "post_update"
    SNOOZE = "snooze_reminder"
    RETRY_WAR_ROOM = "retry_war_room"
    TIMELINE_OLDER = "timeline_older"
    TIMELINE_NEWER = "timeline_newer"
    ALERT_DECLARE = "alert_declare"  # value: the alert group id
    ALERT_LINK = "alert_link"
    ALERT_SOURCE = "alert_source"  # a link button to the monitoring tool
    ALERTS_MONITORING = "alerts_monitoring"  # value: the incident id
    POSTMORTEM_COMPLETE = "postmortem_complete"  # value: the incident id
    POSTMORTEM_SHARE = "postmortem_share"  # value: the incident id (draft it again, upload)
    ADD_FOLLOWUP = "add_followup"  # value: the incident id (opens the follow-up form)
    FOLLOWUP_DONE = "followup_done"  # value: the follow-up id
    CLOSE = "close_incident"  # value: the incident id
    HOME_DECLARE = "home_declare"  # the App Home's "Declare incident"
    PAGE_ONCALL = "page_oncall"  # value: the incident id (opens the page form)
    JOIN_WAR_ROOM = "join_war_room"  # value: the incident id (on its announcement)


class Callback(StrEnum):
    """callback_id values of modals and shortcuts."""

    DECLARE = "declare_incident"
    RESOLVE = "resolve_incident"
    UPDATE = "status_update"
    ADD_TO_TIMELINE = "add_to_timeline"  # message shortcut
    LINK_ALERT = "link_alert"
    FOLLOWUP = "add_followup"
    LOADING = "form_loading"  # a form opened at once, filled when its data is in
    NOTICE = "form_notice"  # a form that could not be filled says why
    PAGE = "page_oncall"
    POSTMORTEM_COMPLETE = "postmortem_complete"  # confirm "Mark postmortem complete"


class Block(StrEnum):
    """block_id values of modal inputs (and the action id inside each)."""

    TITLE = "title"
    SEVERITY = "severity"
    DESCRIPTION = "description"
    SERVICE = "service"
    OPTIONS = "options"
    RESOLUTION = "resolution"
    STATUS = "status"
    IMPACT = "impact"
    NEXT_UPDATE = "next_update"
    INCIDENT = "incident"
    FOLLOWUP_TEXT = "followup_text"
    FOLLOWUP_OWNER = "followup_owner"
    FOLLOWUP_DUE = "followup_due"
    PAGE_SERVICE = "page_service"  # external_select of catalog services
    PAGE_USER = "page_user"
    PAGE_URGENCY = "page_urgency"
    PAGE_MESSAGE = "page_message"
    POSTMORTEM_ANYWAY = "postmortem_anyway"  # checkbox: complete although items are missing
