"""The flows: what turns a person's request or an alert into domain calls and Slack side effects.

One module per capability. Listeners (`bot.slack.listeners`) and endpoints (`bot.http`) call
these; these call the domain, the store and the Slack gateway, and build messages with
`bot.slack.views`."""
