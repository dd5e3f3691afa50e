"""tcbot's settings: one frozen value built from a mapping of environment variables.

`Settings.from_env(mapping)` is pure: the CLI merges `.env` with the process
environment and hands the result in, tests hand in a dict. Every setting is listed
in `SETTINGS` with its default and a one-line description; config.example.env
documents the same list and a test keeps the two in step.

With no X credentials at all tcbot talks to the sandbox X API (bot/sandbox),
deliberately and visibly; partial credentials are an error naming what is missing.
Secrets never appear in a repr, an error message or `tcbot check`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import ConfigError

REAL_X_API_URL = "https://api.x.com"
COPY_EXAMPLE = "see config.example.env for every setting"


@dataclass(frozen=True, slots=True)
class Setting:
    """One environment variable: its name, default (None = unset) and meaning."""

    name: str
    default: str | None
    help: str
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("X_API_KEY", None, "X app's API key (consumer key)", secret=True),
    Setting("X_API_SECRET", None, "X app's API key secret (consumer secret)", secret=True),
    Setting("X_ACCESS_TOKEN", None, "the bot account's access token", secret=True),
    Setting("X_ACCESS_TOKEN_SECRET", None, "the bot account's access token secret", secret=True),
    Setting("X_BEARER_TOKEN", None, "X app's bearer token (for reading)", secret=True),
    Setting("X_API_BASE_URL", None, f"X API address; unset means {REAL_X_API_URL}"),
    Setting("TCBOT_DATABASE_URL", "sqlite:///tcbot.db", "where the archive and outbox live"),
    Setting("TCBOT_TIMEZONE", "Europe/London", "the community's time zone, for display"),
    Setting("TCBOT_BOT_USERNAME", None, "the bot's X username, without @"),
    Setting(
        "TCBOT_HASHTAGS", "#TherapistsConnect,#TraineeTalk", "hashtags to track, comma-separated"
    ),
    Setting(
        "TCBOT_SCHEDULE_FILES",
        "schedules/traineetalk.toml",
        "the chat programme files, comma-separated",
    ),
    Setting("TCBOT_SEARCH_PAGE_LIMIT", "10", "most pages of 100 posts read per search (1-100)"),
    Setting("TCBOT_SANDBOX_STATE", "tcbot-sandbox.db", "the embedded sandbox's state file"),
    Setting(
        "TCBOT_ALERT_URLS",
        None,
        "where to send alerts: Apprise URLs, comma-separated",
        secret=False,
    ),
    Setting("TCBOT_PRICE_POST_READ", "0.005", "X's price in US$ per post read"),
    Setting("TCBOT_PRICE_USER_READ", "0.010", "X's price in US$ per user profile read"),
    Setting("TCBOT_PRICE_POST_CREATE", "0.015", "X's price in US$ per post created"),
    Setting("TCBOT_CHAT_POLL_SECONDS", "30", "during a chat, seconds between polls of its hashtag"),
    Setting("TCBOT_POLL_MINUTES", "15", "outside chats, minutes between polls of each hashtag"),
    Setting(
        "TCBOT_LATE_SWEEP_HOURS",
        "1,24",
        "hours after a chat's window when late replies are collected, comma-separated",
    ),
    Setting(
        "TCBOT_SWEEP_DAYS", "30", "days over which the daily sweep re-checks the whole archive"
    ),
    Setting("TCBOT_WELCOME_FILE", "schedules/welcome.toml", "the welcome texts and modes (TOML)"),
    Setting("TCBOT_WELCOME_DRY_RUN", "false", "true: welcome replies are queued held, for review"),
    Setting("TCBOT_WELCOME_WINDOW_DAYS", "7", "a first post this recent makes a newcomer"),
    Setting("TCBOT_WELCOMES_PER_HOUR", "10", "most welcome replies sent in any hour"),
    Setting("TCBOT_WELCOMES_PER_DAY", "30", "most welcome replies sent in a (local) day"),
    Setting(
        "TCBOT_QUIET_HOURS", "22:00-08:00", "local hours when welcomes wait (HH:MM-HH:MM, or none)"
    ),
    Setting("TCBOT_LOG_LEVEL", "INFO", "how much to log: DEBUG, INFO, WARNING or ERROR"),
    Setting(
        "TCBOT_WEB_PASSWORD",
        None,
        "the hosts' password for `tcbot serve` (plain, or from `tcbot serve --hash-password`)",
        secret=True,
    ),
)
CREDENTIAL_NAMES = tuple(s.name for s in SETTINGS if s.secret and s.name.startswith("X_"))
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True, slots=True)
class XCredentials:
    """The five secrets of an X app and its bot account. The repr hides them."""

    api_key: str
    api_secret: str
    access_token: str
    access_token_secret: str
    bearer_token: str

    def __repr__(self) -> str:
        return "XCredentials(<hidden>)"


@dataclass(frozen=True, slots=True)
class Prices:
    """X's pay-per-use prices in US$ (X-API-NOTES.md §4.1), for cost reports."""

    post_read: float
    user_read: float
    post_create: float

    def cost(self, *, posts_read: int, users_read: int, posts_created: int) -> float:
        return (
            posts_read * self.post_read
            + users_read * self.user_read
            + posts_created * self.post_create
        )


@dataclass(frozen=True, slots=True)
class Settings:
    """The effective configuration. Build it with `Settings.from_env`."""

    credentials: XCredentials | None  # None selects the sandbox
    x_api_base_url: str | None  # None: the real API (or the embedded sandbox without credentials)
    database_url: str
    timezone: ZoneInfo
    bot_username: str | None
    hashtags: tuple[str, ...]
    schedule_files: tuple[str, ...]
    search_page_limit: int
    sandbox_state: str
    alert_urls: tuple[str, ...]
    prices: Prices
    chat_poll_seconds: int
    poll_minutes: int
    late_sweep_hours: tuple[float, ...]
    sweep_days: int
    welcome_file: str
    welcome_dry_run: bool
    welcome_window_days: int
    welcomes_per_hour: int
    welcomes_per_day: int
    quiet_hours: tuple[time, time] | None  # (start, end) local; None: no quiet hours
    log_level: str
    web_password: str | None = None  # plain or "pbkdf2_sha256$..."; None: no hosting pages

    @property
    def uses_sandbox(self) -> bool:
        """True when no X credentials are configured: tcbot talks to the sandbox X API."""
        return self.credentials is None

    @property
    def embedded_sandbox(self) -> bool:
        """True when tcbot must start its own sandbox (no credentials and no X_API_BASE_URL)."""
        return self.credentials is None and self.x_api_base_url is None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read and check every setting; raises ConfigError naming the variable and value."""
        get = _reader(env)
        return cls(
            credentials=_credentials(env),
            x_api_base_url=_url("X_API_BASE_URL", get("X_API_BASE_URL")),
            database_url=_database_url(get("TCBOT_DATABASE_URL")),
            timezone=_timezone(get("TCBOT_TIMEZONE")),
            bot_username=_username(get("TCBOT_BOT_USERNAME")),
            hashtags=_hashtags(get("TCBOT_HASHTAGS")),
            schedule_files=_file_list("TCBOT_SCHEDULE_FILES", get("TCBOT_SCHEDULE_FILES")),
            search_page_limit=_int(
                "TCBOT_SEARCH_PAGE_LIMIT", get("TCBOT_SEARCH_PAGE_LIMIT"), 1, 100
            ),
            sandbox_state=_required("TCBOT_SANDBOX_STATE", get("TCBOT_SANDBOX_STATE")),
            alert_urls=tuple(
                u.strip() for u in (get("TCBOT_ALERT_URLS") or "").split(",") if u.strip()
            ),
            prices=Prices(
                post_read=_price("TCBOT_PRICE_POST_READ", get("TCBOT_PRICE_POST_READ")),
                user_read=_price("TCBOT_PRICE_USER_READ", get("TCBOT_PRICE_USER_READ")),
                post_create=_price("TCBOT_PRICE_POST_CREATE", get("TCBOT_PRICE_POST_CREATE")),
            ),
            chat_poll_seconds=_int(
                "TCBOT_CHAT_POLL_SECONDS", get("TCBOT_CHAT_POLL_SECONDS"), 10, 3600
            ),
            poll_minutes=_int("TCBOT_POLL_MINUTES", get("TCBOT_POLL_MINUTES"), 1, 1440),
            late_sweep_hours=_hours("TCBOT_LATE_SWEEP_HOURS", get("TCBOT_LATE_SWEEP_HOURS")),
            sweep_days=_int("TCBOT_SWEEP_DAYS", get("TCBOT_SWEEP_DAYS"), 1, 365),
            welcome_file=_required("TCBOT_WELCOME_FILE", get("TCBOT_WELCOME_FILE")),
            welcome_dry_run=_bool("TCBOT_WELCOME_DRY_RUN", get("TCBOT_WELCOME_DRY_RUN")),
            welcome_window_days=_int(
                "TCBOT_WELCOME_WINDOW_DAYS", get("TCBOT_WELCOME_WINDOW_DAYS"), 1, 30
            ),
            welcomes_per_hour=_int(
                "TCBOT_WELCOMES_PER_HOUR", get("TCBOT_WELCOMES_PER_HOUR"), 0, 100
            ),
            welcomes_per_day=_int("TCBOT_WELCOMES_PER_DAY", get("TCBOT_WELCOMES_PER_DAY"), 0, 1000),
            quiet_hours=_quiet_hours("TCBOT_QUIET_HOURS", get("TCBOT_QUIET_HOURS")),
            log_level=_choice("TCBOT_LOG_LEVEL", get("TCBOT_LOG_LEVEL"), LOG_LEVELS),
            web_password=get("TCBOT_WEB_PASSWORD"),
        )

    def describe(self) -> list[tuple[str, str]]:
        """(variable, shown value) pairs for `tcbot check`, secrets masked."""
        shown = {
            "X_API_BASE_URL": self.x_api_base_url or _default_url_note(self),
            "TCBOT_DATABASE_URL": mask_url_password(self.database_url),
            "TCBOT_TIMEZONE": self.timezone.key,
            "TCBOT_BOT_USERNAME": self.bot_username or "(not set)",
            "TCBOT_HASHTAGS": ",".join(self.hashtags),
            "TCBOT_SCHEDULE_FILES": ",".join(self.schedule_files),
            "TCBOT_SEARCH_PAGE_LIMIT": str(self.search_page_limit),
            "TCBOT_SANDBOX_STATE": self.sandbox_state,
            "TCBOT_ALERT_URLS": f"{len(self.alert_urls)} set (hidden)"
            if self.alert_urls
            else "(not set)",
            "TCBOT_PRICE_POST_READ": f"{self.prices.post_read:.3f}",
            "TCBOT_PRICE_USER_READ": f"{self.prices.user_read:.3f}",
            "TCBOT_PRICE_POST_CREATE": f"{self.prices.post_create:.3f}",
            "TCBOT_CHAT_POLL_SECONDS": str(self.chat_poll_seconds),
            "TCBOT_POLL_MINUTES": str(self.poll_minutes),
            "TCBOT_LATE_SWEEP_HOURS": ",".join(f"{h:g}" for h in self.late_sweep_hours),
            "TCBOT_SWEEP_DAYS": str(self.sweep_days),
            "TCBOT_WELCOME_FILE": self.welcome_file,
            "TCBOT_WELCOME_DRY_RUN": "true" if self.welcome_dry_run else "false",
            "TCBOT_WELCOME_WINDOW_DAYS": str(self.welcome_window_days),
            "TCBOT_WELCOMES_PER_HOUR": str(self.welcomes_per_hour),
            "TCBOT_WELCOMES_PER_DAY": str(self.welcomes_per_day),
            "TCBOT_QUIET_HOURS": (
                f"{self.quiet_hours[0]:%H:%M}-{self.quiet_hours[1]:%H:%M}"
                if self.quiet_hours
                else "none"
            ),
            "TCBOT_LOG_LEVEL": self.log_level,
        }
        secret_note = "(not set: sandbox)" if self.credentials is None else "(set, hidden)"
        shown["TCBOT_WEB_PASSWORD"] = (
            "(set, hidden)" if self.web_password else "(not set: no hosting pages)"
        )
        return [(s.name, shown.get(s.name, secret_note)) for s in SETTINGS]

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.describe())
        return f"Settings({fields})"


def _reader(env: Mapping[str, str]) -> Any:
    defaults = {s.name: s.default for s in SETTINGS}

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value if value else defaults[name]

    return get


def _credentials(env: Mapping[str, str]) -> XCredentials | None:
    present = {n: env.get(n, "").strip() for n in CREDENTIAL_NAMES}
    missing = [n for n, v in present.items() if not v]
    if len(missing) == len(CREDENTIAL_NAMES):
        return None
    if missing:
        raise ConfigError(
            missing[0],
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set"
            " but other X credentials are",
            "set all five X_* credentials in .env (from the X developer console),"
            " or none of them to use the sandbox",
        )
    values = list(present.values())
    return XCredentials(*values)


def _url(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ConfigError(
            name,
            f"{name}={value!r} is not a web address like https://api.x.com",
            f"fix {name} in .env, or remove it to use X's API",
        )
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(
            name, f"{name}={value!r} has a bad port number", f"fix {name} in .env"
        ) from None
    return value.rstrip("/")


def _database_url(value: str | None) -> str:
    name = "TCBOT_DATABASE_URL"
    value = _required(name, value)
    scheme = value.partition("://")[0]
    backend = scheme.partition("+")[0]
    if "://" not in value or backend not in ("sqlite", "postgresql"):
        raise ConfigError(
            name,
            f"{name}={mask_url_password(value)!r} is not a database URL tcbot can use",
            "use sqlite:///tcbot.db or postgresql+psycopg://user@host/dbname",
        )
    return value


def _timezone(value: str | None) -> ZoneInfo:
    name = "TCBOT_TIMEZONE"
    value = _required(name, value)
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            name,
            f"{name}={value!r} is not a known time zone",
            "use a name like Europe/London or America/New_York",
        ) from None


def _username(value: str | None) -> str | None:
    if value is None:
        return None
    name = value.lstrip("@")
    if (
        not name
        or len(name) > 15
        or not all(c.isascii() and (c.isalnum() or c == "_") for c in name)
    ):
        raise ConfigError(
            "TCBOT_BOT_USERNAME",
            f"TCBOT_BOT_USERNAME={value!r} is not an X username",
            "use letters, digits and _ only, at most 15, e.g. TherapistsBot",
        )
    return name


def _hashtags(value: str | None) -> tuple[str, ...]:
    name = "TCBOT_HASHTAGS"
    tags = tuple(t.strip() for t in _required(name, value).split(",") if t.strip())
    for tag in tags:
        body = tag[1:]
        if not tag.startswith("#") or not body or not all(c.isalnum() or c == "_" for c in body):
            raise ConfigError(
                name,
                f"{name} has {tag!r}, which is not a hashtag",
                "list hashtags like #TherapistsConnect,#TraineeTalk",
            )
    if not tags:
        raise ConfigError(name, f"{name} is empty", "list at least one hashtag, e.g. #TraineeTalk")
    return tags


def _file_list(name: str, value: str | None) -> tuple[str, ...]:
    files = tuple(f.strip() for f in _required(name, value).split(",") if f.strip())
    if not files:
        raise ConfigError(name, f"{name} is empty", "list at least one schedule file")
    return files


def _int(name: str, value: str | None, low: int, high: int) -> int:
    try:
        number = int(_required(name, value))
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise ConfigError(
            name,
            f"{name}={value!r} is not a whole number from {low} to {high}",
            f"fix {name} in .env",
        )
    return number


def _hours(name: str, value: str | None) -> tuple[float, ...]:
    """ "1,24" -> (1.0, 24.0): late-sweep times in hours, each from 0 to 144 (6 days:
    a later sweep would find its replies gone from X's 7-day search window)."""
    items = [item.strip() for item in _required(name, value).split(",") if item.strip()]
    try:
        hours = tuple(sorted(float(item) for item in items))
    except ValueError:
        hours = (-1.0,)
    if any(not 0 <= h <= 144 for h in hours):
        raise ConfigError(
            name,
            f"{name}={value!r} is not a list of hours from 0 to 144",
            f"write it like {name}=1,24 in .env",
        )
    return hours


def _bool(name: str, value: str | None) -> bool:
    word = _required(name, value).strip().lower()
    if word in ("true", "yes", "1", "on"):
        return True
    if word in ("false", "no", "0", "off"):
        return False
    raise ConfigError(name, f"{name}={value!r} is not true or false", f"fix {name} in .env")


def _quiet_hours(name: str, value: str | None) -> tuple[time, time] | None:
    """ "22:00-08:00" -> (22:00, 08:00), a span that may cross midnight; "none" -> None."""
    text = _required(name, value).strip().lower()
    if text in ("", "none", "off"):
        return None
    start, sep, end = text.partition("-")
    try:
        if not sep:
            raise ValueError(text)
        span = (time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))
    except ValueError:
        raise ConfigError(
            name,
            f"{name}={value!r} is not a span of local times",
            f"write it like {name}=22:00-08:00 in .env, or {name}=none",
        ) from None
    if span[0] == span[1]:
        raise ConfigError(
            name, f"{name}={value!r} starts and ends at the same time", f"fix {name} in .env"
        )
    return span


def _price(name: str, value: str | None) -> float:
    try:
        price = float(_required(name, value))
    except ValueError:
        price = -1.0
    if not 0 <= price < 100:
        raise ConfigError(
            name, f"{name}={value!r} is not a price in US dollars", "write it like 0.005 in .env"
        )
    return price


def _choice(name: str, value: str | None, choices: tuple[str, ...]) -> str:
    chosen = _required(name, value).upper()
    if chosen not in choices:
        raise ConfigError(
            name, f"{name}={value!r} is not one of {', '.join(choices)}", f"fix {name} in .env"
        )
    return chosen


def _required(name: str, value: str | None) -> str:
    if value is None:
        raise ConfigError(name, f"{name} is not set", COPY_EXAMPLE)
    return value


def _default_url_note(settings: Settings) -> str:
    return "(embedded sandbox)" if settings.embedded_sandbox else f"{REAL_X_API_URL} (X's API)"


def mask_url_password(url: str) -> str:
    """A database URL with any password replaced by ***, fit for a log or an error."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in userinfo:
        return url
    user = userinfo.partition(":")[0]
    return f"{scheme}://{user}:***@{host}"
