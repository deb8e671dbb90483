"""Alerts (issue 5, item 7): incidents, unreachable storage, overdue audits and archiving, signing failures.

The pieces, pure first:

* :mod:`.model` – the :class:`~.model.Alert` value and its kinds and severities;
* :mod:`.dedupe` – which alerts to send, which to suppress as repeats, which to fold into the daily summary;
* :mod:`.render` – Chinese text and JSON bodies of alerts and summaries;
* :mod:`.channels` – log, HTTP webhook (JSON) and SMTP e-mail delivery;
* :mod:`.state` – the small JSON state file (what was sent when, the day's journal);
* :mod:`.dispatcher` – :class:`~.dispatcher.AlertDispatcher`, the thin I/O shell tying them together;
* :mod:`.settings` / :mod:`.factory` – configuration and wiring.

Deciding *that* something is an incident (a digest mismatch, a broken lock) is the audit runner's job;
this package only delivers what it is given.
"""

from integrity.alerts.model import Alert, AlertKind, Severity

__all__ = ["Alert", "AlertKind", "Severity"]
