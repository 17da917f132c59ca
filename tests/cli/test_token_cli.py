from typer.testing import CliRunner

from hotstar_sync.api.token import verify_token
from hotstar_sync.cli import app
from hotstar_sync.config import DEMO_AKAMAI_SECRET

runner = CliRunner()


def test_token_prints_a_valid_token_for_the_simulator():
    result = runner.invoke(app, ["token"], env={"HOTSTAR_API_BASE_URL": "http://127.0.0.1:8765"})
    assert result.exit_code == 0
    assert verify_token(bytes.fromhex(DEMO_AKAMAI_SECRET), result.stdout.strip()) is None


def test_token_without_a_secret_for_a_real_host_is_one_line_and_exit_2():
    result = runner.invoke(
        app, ["token"], env={"HOTSTAR_API_BASE_URL": "https://catalog-api.hotstar.com"}
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "error: HOTSTAR_AKAMAI_SECRET is not set (required for https://catalog-api.hotstar.com)"
    )


def test_a_malformed_setting_exits_2_naming_the_variable():
    result = runner.invoke(app, ["token"], env={"HOTSTAR_TOKEN_WINDOW_SECONDS": "soon"})
    assert result.exit_code == 2
    assert result.stderr.startswith("error: HOTSTAR_TOKEN_WINDOW_SECONDS: ")
    assert "Traceback" not in result.output
