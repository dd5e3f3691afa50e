"""Settings.from_env: defaults, sandbox selection, validation and secret masking."""

from __future__ import annotations

import pytest

from bot.config import SETTINGS, Settings, mask_url_password
from bot.errors import ConfigError

CREDS = {
    "X_API_KEY": "key-AAAA1111",
    "X_API_SECRET": "secret-BBBB2222",
    "X_ACCESS_TOKEN": "123-token-CCCC3333",
    "X_ACCESS_TOKEN_SECRET": "tokensecret-DDDD4444",
    "X_BEARER_TOKEN": "bearer-EEEE5555",
}


def test_settings_defaults_select_sandbox_and_documented_values() -> None:
    settings = Settings.from_env({})
    assert settings.uses_sandbox and settings.embedded_sandbox
    assert settings.credentials is None
    assert settings.database_url == "sqlite:///tcbot.db"
    assert settings.timezone.key == "Europe/London"
    assert settings.hashtags == ("#TherapistsConnect", "#TraineeTalk")
    assert settings.bot_username is None
    assert settings.search_page_limit == 10


def test_settings_base_url_without_credentials_is_an_external_sandbox() -> None:
    settings = Settings.from_env({"X_API_BASE_URL": "http://127.0.0.1:8765/"})
    assert settings.uses_sandbox and not settings.embedded_sandbox
    assert settings.x_api_base_url == "http://127.0.0.1:8765"


def test_settings_full_credentials_select_x() -> None:
    settings = Settings.from_env(CREDS)
    assert not settings.uses_sandbox
    assert settings.credentials is not None
    assert settings.credentials.bearer_token == "bearer-EEEE5555"


@pytest.mark.parametrize("missing", sorted(CREDS))
def test_settings_partial_credentials_name_the_missing_variable(missing: str) -> None:
    env = {k: v for k, v in CREDS.items() if k != missing}
    with pytest.raises(ConfigError) as err:
        Settings.from_env(env)
    assert err.value.variable == missing
    assert f"{missing} is not set" in str(err.value)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("TCBOT_TIMEZONE", "Europe/Londn", "'Europe/Londn' is not a known time zone"),
        ("TCBOT_TIMEZONE", "../../etc/passwd", "is not a known time zone"),
        ("X_API_BASE_URL", "localhost:8765", "'localhost:8765' is not a web address"),
        ("X_API_BASE_URL", "ftp://example.org", "is not a web address"),
        ("X_API_BASE_URL", "http://127.0.0.1:99999", "has a bad port number"),
        ("TCBOT_DATABASE_URL", "tcbot.db", "'tcbot.db' is not a database URL"),
        ("TCBOT_DATABASE_URL", "mysql://x/y", "is not a database URL"),
        ("TCBOT_SEARCH_PAGE_LIMIT", "ten", "'ten' is not a whole number from 1 to 100"),
        ("TCBOT_SEARCH_PAGE_LIMIT", "0", "'0' is not a whole number from 1 to 100"),
        ("TCBOT_HASHTAGS", "TraineeTalk", "'TraineeTalk', which is not a hashtag"),
        ("TCBOT_BOT_USERNAME", "not a name", "is not an X username"),
        ("TCBOT_SCHEDULE_FILES", " , ", "TCBOT_SCHEDULE_FILES is empty"),
        ("TCBOT_LOG_LEVEL", "LOUD", "'LOUD' is not one of DEBUG, INFO, WARNING, ERROR"),
    ],
)
def test_settings_bad_value_names_variable_and_value(name: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        Settings.from_env({name: value})
    assert err.value.variable == name
    assert name in str(err.value)
    assert expected in str(err.value)
    assert err.value.fix  # every error says what to do next


def test_settings_normalises_bot_username_and_hashtags() -> None:
    settings = Settings.from_env(
        {"TCBOT_BOT_USERNAME": "@TherapistsBot", "TCBOT_HASHTAGS": " #A , #B_2 ,"}
    )
    assert settings.bot_username == "TherapistsBot"
    assert settings.hashtags == ("#A", "#B_2")


def test_settings_repr_and_describe_never_show_secrets() -> None:
    settings = Settings.from_env(
        {**CREDS, "TCBOT_DATABASE_URL": "postgresql+psycopg://bot:pw-FFFF6666@db/tcbot"}
    )
    shown = repr(settings) + repr(settings.credentials) + str(settings.describe())
    for secret in [*CREDS.values(), "pw-FFFF6666"]:
        assert secret not in shown
    assert "(set, hidden)" in shown
    assert "postgresql+psycopg://bot:***@db/tcbot" in shown


def test_settings_describe_lists_every_setting_once() -> None:
    names = [name for name, _ in Settings.from_env({}).describe()]
    assert names == [s.name for s in SETTINGS]


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("sqlite:///tcbot.db", "sqlite:///tcbot.db"),
        ("postgresql://u@h/d", "postgresql://u@h/d"),
        ("postgresql://u:p@ss@h/d", "postgresql://u:***@h/d"),
    ],
)
def test_mask_url_password_hides_only_the_password(url: str, masked: str) -> None:
    assert mask_url_password(url) == masked


def test_settings_prices_default_to_pay_per_use_and_compute_cost() -> None:
    prices = Settings.from_env({}).prices
    assert prices.cost(posts_read=1000, users_read=10, posts_created=4) == pytest.approx(5.16)


@pytest.mark.parametrize("value", ["free", "-1", "1000"])
def test_settings_bad_price_names_variable(value: str) -> None:
    with pytest.raises(ConfigError) as err:
        Settings.from_env({"TCBOT_PRICE_POST_READ": value})
    assert f"TCBOT_PRICE_POST_READ={value!r} is not a price" in str(err.value)
