"""Sending health findings through apprise (Slack, e-mail, webhooks, ...).

The destinations are apprise URLs in HOTSTAR_ALERT_URLS. An alert never carries the
partner secret or a token: findings are built from our own messages, which never hold
them, and every alert is scrubbed once more before it leaves (`redact`), because a reason
in the sync log could have come from anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import apprise

from hotstar_sync.config import Settings
from hotstar_sync.errors import HotstarSyncError
from hotstar_sync.ops.health import HealthReport, Level
from hotstar_sync.redact import redact

_NOTIFY_TYPE = {
    Level.WARNING: apprise.NotifyType.WARNING,
    Level.CRITICAL: apprise.NotifyType.FAILURE,
    Level.UNKNOWN: apprise.NotifyType.FAILURE,
}


@dataclass(frozen=True, slots=True)
class Alert:
    title: str
    body: str
    level: Level


@dataclass(frozen=True, slots=True)
class Delivery:
    sent: bool
    #: Destinations apprise accepted, and URLs it could not parse (never echoed: an apprise
    #: URL often holds a webhook token).
    destinations: int
    invalid: int = 0


def secrets_of(settings: Settings) -> list[str]:
    """The partner secret as hex (`redact` matches it in either case)."""
    try:
        key = settings.resolved_secret()
    except HotstarSyncError:
        return []  # no usable secret is configured, so there is none to leak
    return [key.hex()]


def build_alert(report: HealthReport, secrets: Iterable[str]) -> Alert | None:
    """The alert for a report's problems, or None when all is OK."""
    problems = report.problems()
    if not problems:
        return None
    secrets = list(secrets)
    body = "\n".join(redact(str(finding), secrets) for finding in problems)
    return Alert(f"hotstar-sync health: {report.level.name}", body, report.level)


def send(alert: Alert, urls: Iterable[str]) -> Delivery:
    """Send `alert` to every apprise URL; `sent` is True only when all of them took it."""
    targets = apprise.Apprise()
    invalid = sum(not targets.add(url) for url in urls)
    if not len(targets):
        return Delivery(False, 0, invalid)
    sent = targets.notify(title=alert.title, body=alert.body, notify_type=_NOTIFY_TYPE[alert.level])
    return Delivery(bool(sent) and not invalid, len(targets), invalid)
