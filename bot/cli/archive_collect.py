"""The `archive collect` command: poll the tracked hashtags once, now."""

from __future__ import annotations

import click

from bot.cli.app import Runtime, archive_group


@archive_group.command("collect")
@click.pass_obj
def archive_collect(rt: Runtime) -> None:
    """Read what is new on the tracked hashtags from X now, into the archive.

    `tcbot run` does this on its own: every 15 minutes, every 30 seconds during a
    chat (with the chat's replies that carry no hashtag), and once more 1 hour and
    24 hours after a chat for late replies. Use this to bring the archive up to date
    without running the bot. Only posts newer than the last collection are read;
    every post read is paid for (see 'tcbot status').

    The hashtags are TCBOT_HASHTAGS plus those of any chat going on now.

    Example: tcbot archive collect
    """
    from bot import wiring
    from bot.tracker import Tracker, TrackerSettings

    settings = rt.settings
    sessions = rt.sessions()
    with wiring.connect_x(settings, clock=rt.clock, sessions=sessions) as client:
        tracker = Tracker(
            client=client, sessions=sessions, clock=rt.clock,
            settings=TrackerSettings.from_settings(settings), bot_username=settings.bot_username,
        )  # fmt: skip
        report = tracker.poll_all()
    searched = [q for q in report.polled if not q.startswith("lookup of")]
    click.echo(f"Searched {', '.join(searched)}.")
    click.echo(
        f"Read {report.posts_read} post{'s' if report.posts_read != 1 else ''} in"
        f" {report.requests} request{'s' if report.requests != 1 else ''};"
        f" {report.new_posts} new in the archive."
    )
    if report.gaps:
        click.echo(
            f"{report.gaps} stretch(es) of time could not be collected (older than X's 7-day"
            " search window, or more than TCBOT_SEARCH_PAGE_LIMIT pages); 'tcbot status' lists them."
        )
