"""Alerts for organisers: a missed or failed post, or X refusing the bot's credentials.

Every alert is logged at ERROR (so it is in the log and in `tcbot status`). When
TCBOT_ALERT_URLS lists Apprise URLs (email, Slack, Telegram, a web hook, ...), the
alert is also sent there. Sending never stops the bot: a notification that cannot
be delivered is logged and dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from bot.errors import ConfigError

log = logging.getLogger(__name__)

Alert = Callable[[str], None]
TITLE = "tcbot needs attention"


def make_alert(urls: Sequence[str]) -> Alert:
    """An alert function sending to `urls` (Apprise syntax); with none, it only logs."""
    if not urls:
        return _log_only
    try:
        import apprise
    except ImportError:
        raise ConfigError(
            "TCBOT_ALERT_URLS",
            "TCBOT_ALERT_URLS is set but the Apprise package is not installed",
            "install it with: pip install 'tcbot[alerts]', or remove TCBOT_ALERT_URLS",
        ) from None
    notifier = apprise.Apprise()
    for url in urls:
        if not notifier.add(url):
            raise ConfigError(
                "TCBOT_ALERT_URLS",
                f"TCBOT_ALERT_URLS has an address Apprise does not understand ({_scheme(url)})",
                "see the Apprise documentation for the address of each service",
            )

    def alert(message: str) -> None:
        _log_only(message)
        try:
            delivered = notifier.notify(title=TITLE, body=message)
        except Exception:
            log.exception("could not send an alert")
            return
        if not delivered:
            log.warning("an alert could not be delivered to every TCBOT_ALERT_URLS address")

    return alert


def _log_only(message: str) -> None:
    log.error("ALERT: %s", message)


def _scheme(url: str) -> str:
    """Only the scheme of an alert URL: the rest may hold a token."""
    return url.partition("://")[0] + "://..." if "://" in url else "not a URL"
