import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from hotstar_sync.api.token import TokenProvider, make_token, verify_token

KEY = bytes.fromhex("0a1b2c3d")


def test_token_has_the_edgeauth_format_and_signature():
    token = make_token(KEY, 2000, now=1_700_000_000)
    # It starts a minute early (CLOCK_LEEWAY_SECONDS) and ends the window after now.
    assert token.value.startswith("st=1699999940~exp=1700002000~acl=/*~hmac=")
    payload, mac = token.value.split("~hmac=")
    assert mac == hmac.new(KEY, payload.encode(), hashlib.sha256).hexdigest()
    assert (token.start, token.expires) == (1_699_999_940, 1_700_002_000)


def test_an_edge_whose_clock_runs_behind_ours_accepts_the_token():
    ours = 1_700_000_000
    for behind in (1, 3, 30, 59):
        token = make_token(KEY, 2000, now=ours)
        assert verify_token(KEY, token.value, now=ours - behind) is None, behind
    assert verify_token(KEY, make_token(KEY, 2000, now=ours).value, now=ours - 61) == (
        "token not yet valid"
    )


def test_verify_accepts_a_valid_token_and_says_why_others_fail():
    token = make_token(KEY, 10, now=1000, leeway=0)
    assert verify_token(KEY, token.value, now=1005) is None
    assert verify_token(KEY, token.value, now=1010) == "token expired"
    assert verify_token(KEY, token.value, now=999) == "token not yet valid"
    assert verify_token(b"other", token.value, now=1005) == "bad signature"
    assert verify_token(KEY, "garbage", now=1005) == "malformed token"
    forged = token.value.replace("exp=1010", "exp=9999")
    assert verify_token(KEY, forged, now=1005) == "bad signature"


@given(st.integers(min_value=0, max_value=2**40), st.integers(min_value=1, max_value=10**6))
def test_any_fresh_token_verifies_within_its_window(start, window):
    token = make_token(KEY, window, now=start)
    assert verify_token(KEY, token.value, now=start) is None
    assert verify_token(KEY, token.value, now=start + window) == "token expired"


def test_repr_and_fingerprint_never_show_the_token():
    token = make_token(KEY, 100)
    assert token.value not in repr(token)
    assert token.fingerprint in repr(token) and len(token.fingerprint) == 16


def test_provider_reuses_a_token_until_near_expiry_and_reports_new_ones():
    issued = []
    provider = TokenProvider(KEY, 2000, issued.append)
    first = provider.current()
    assert provider.current() is first
    assert provider.refresh() is not first
    assert len(issued) == 2


def test_scrub_removes_the_providers_secret_in_either_case_and_any_token() -> None:
    provider = TokenProvider(KEY, 60)
    token = provider.current().value
    text = f"echo: key={KEY.hex().upper()} again {KEY.hex()} hdnea={token}"
    assert provider.scrub(text) == "echo: key=[redacted] again [redacted] [redacted]"
