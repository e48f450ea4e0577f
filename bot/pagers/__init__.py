"""The pagers (PagerDuty, Opsgenie) behind one interface: send a page, resolve it, read who is
on call. Every call to a pager's API is made here; none is retried here (the page outbox does)."""
