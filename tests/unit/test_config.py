import pytest
from structlog.testing import capture_logs

from hotstar_sync.config import (
    DEMO_AKAMAI_SECRET,
    DEMO_PARTNER_ID,
    load_settings,
    unknown_variables,
)
from hotstar_sync.errors import ConfigError

REMOTE = "https://pp-catalog-api.hotstar.com"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ("DATABASE_URL", "HOTSTAR_PARTNER_ID", "HOTSTAR_AKAMAI_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_match_the_documented_ones():
    s = load_settings()
    assert s.rate_limit_rps == 1 and s.token_window_seconds == 2000
    assert s.circuit_breaker_seconds == 60 and s.slow_response_seconds == 5
    assert s.database_url is None and s.api_is_local


def test_demo_credentials_only_for_the_local_simulator():
    s = load_settings()
    assert s.resolved_partner_id() == DEMO_PARTNER_ID
    assert s.resolved_secret() == bytes.fromhex(DEMO_AKAMAI_SECRET)
    remote = load_settings(api_base_url=REMOTE)
    with pytest.raises(ConfigError, match=r"^HOTSTAR_PARTNER_ID is not set \(required for https"):
        remote.resolved_partner_id()
    with pytest.raises(ConfigError, match=r"^HOTSTAR_AKAMAI_SECRET is not set"):
        remote.resolved_secret()


def test_a_malformed_variable_is_named_without_its_value(monkeypatch):
    monkeypatch.setenv("HOTSTAR_RATE_LIMIT_RPS", "fast")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith("HOTSTAR_RATE_LIMIT_RPS: ")
    assert "fast" not in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "HOTSTAR_RATE_LIMIT_RPS",
            "-1",
            "HOTSTAR_RATE_LIMIT_RPS: Input should be greater than or equal to 0",
        ),
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL: must be a postgresql:// URL"),
        (
            "HOTSTAR_API_BASE_URL",
            "ftp://x",
            "HOTSTAR_API_BASE_URL: must be an http:// or https:// URL",
        ),
        (
            "HOTSTAR_PAGE_SIZE",
            "1001",
            "HOTSTAR_PAGE_SIZE: Input should be less than or equal to 1000",
        ),
        # "inf" parses as a float: it crashed the first wait far from its variable.
        (
            "HOTSTAR_CIRCUIT_BREAKER_SECONDS",
            "inf",
            "HOTSTAR_CIRCUIT_BREAKER_SECONDS: Input should be a finite number",
        ),
        (
            "HOTSTAR_RATE_LIMIT_RPS",
            "inf",
            "HOTSTAR_RATE_LIMIT_RPS: Input should be a finite number",
        ),
    ],
)
def test_each_error_names_its_variable(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == message


def test_a_secret_that_is_not_hex_is_refused_without_echoing_it(monkeypatch):
    monkeypatch.setenv("HOTSTAR_AKAMAI_SECRET", "not-hex-secret")
    with pytest.raises(ConfigError) as caught:
        load_settings().resolved_secret()
    assert str(caught.value) == "HOTSTAR_AKAMAI_SECRET: the secret must be a hex string"


def test_secret_from_a_file(monkeypatch, tmp_path):
    path = tmp_path / "secret"
    path.write_text("abcd\n")
    monkeypatch.setenv("HOTSTAR_AKAMAI_SECRET_FILE", str(path))
    assert load_settings(api_base_url=REMOTE).resolved_secret() == b"\xab\xcd"


def test_dotenv_file_is_read(tmp_path):
    (tmp_path / ".env").write_text("HOTSTAR_RATE_LIMIT_RPS=0.5\nHOTSTAR_PARTNER_ID=p1\n")
    s = load_settings()
    assert s.rate_limit_rps == 0.5 and s.resolved_partner_id() == "p1"


def test_a_blank_secret_is_unset_and_the_secret_file_is_read(monkeypatch, tmp_path):
    # `HOTSTAR_AKAMAI_SECRET=${SECRET:-}` in a compose file: not an empty signing key.
    path = tmp_path / "secret"
    path.write_text("abcd\n")
    monkeypatch.setenv("HOTSTAR_AKAMAI_SECRET", " ")
    monkeypatch.setenv("HOTSTAR_AKAMAI_SECRET_FILE", str(path))
    assert load_settings(api_base_url=REMOTE).resolved_secret() == b"\xab\xcd"
    monkeypatch.setenv("HOTSTAR_AKAMAI_SECRET_FILE", "")
    with pytest.raises(ConfigError, match=r"^HOTSTAR_AKAMAI_SECRET is not set"):
        load_settings(api_base_url=REMOTE).resolved_secret()


def test_the_settings_repr_hides_the_database_password():
    settings = load_settings(database_url="postgresql://sync:s3cr%40t@db:5432/mirror")
    assert "s3cr" not in repr(settings) and "s3cr" not in str(settings)
    assert "postgresql://sync:***@db:5432/mirror" in repr(settings)
    assert settings.database_url == "postgresql://sync:s3cr%40t@db:5432/mirror"


def test_both_secret_variables_set_is_an_error_not_a_silent_choice(monkeypatch, tmp_path):
    path = tmp_path / "secret"
    path.write_text("abcd\n")
    monkeypatch.setenv("HOTSTAR_AKAMAI_SECRET", "0a0b")
    monkeypatch.setenv("HOTSTAR_AKAMAI_SECRET_FILE", str(path))
    with pytest.raises(ConfigError) as caught:
        load_settings(api_base_url=REMOTE).resolved_secret()
    assert caught.value.message == (
        "HOTSTAR_AKAMAI_SECRET and HOTSTAR_AKAMAI_SECRET_FILE are both set: which secret is meant?"
    )


def test_a_misspelt_variable_is_named_in_a_warning_once(monkeypatch, tmp_path):
    names = [
        "HOTSTAR_RATE_LIMT_RPS",  # the typo
        "HOTSTAR_RATE_LIMIT_RPS",
        "HOTSTAR_Page_Size",  # read: names are not case-sensitive
        "DATABASE_URL",
        "HOTSTAR_TEST_DATABASE_URL",  # the test suite's own
        "HOTSTAR_SYNC_SERVICE_HOST",  # Kubernetes' for a Service named hotstar-sync
        "HOTSTAR_SYNC_PORT_8000_TCP_ADDR",
        "HOME",
    ]
    assert unknown_variables(names) == ["HOTSTAR_RATE_LIMT_RPS"]
    (tmp_path / ".env").write_text("HOTSTAR_LOOKBAK_SECONDS=60\n")  # cwd: tmp_path
    monkeypatch.setenv("HOTSTAR_SYNC_CORN", "0 3 * * *")
    with capture_logs() as logs:
        load_settings()
        load_settings()  # the same names are not warned about again
    warned = [e["variable"] for e in logs if e["event"].startswith("unknown setting")]
    assert warned == ["HOTSTAR_LOOKBAK_SECONDS", "HOTSTAR_SYNC_CORN"]


def test_the_settings_repr_hides_a_password_given_as_a_parameter():
    settings = load_settings(database_url="postgresql://db/mirror?user=sync&password=s3cret")
    assert "s3cret" not in repr(settings)
    assert "postgresql://db/mirror?user=sync&password=***" in repr(settings)
