import pytest

from ldseg.secrets import SENSITIVE, SecretState, compare_secret, fingerprint, flaw, redact


@pytest.mark.parametrize(
    ("live", "desired", "state"),
    [
        (None, "abc", SecretState.MISSING),
        ("", "abc", SecretState.MISSING),
        ("secret-value", "secret-value", SecretState.MATCHES),
        ("********", "anything", SecretState.UNKNOWN),
        ("sec******lue", "secret-value", SecretState.UNKNOWN),
        ("sec******xyz", "secret-value", SecretState.CONTRADICTS),
        ("abc******lue", "secret-value", SecretState.CONTRADICTS),
        ("****alue", "secret-value", SecretState.UNKNOWN),
        ("****blue", "secret-value", SecretState.CONTRADICTS),
        ("long-prefix***long-suffix", "short", SecretState.CONTRADICTS),
        ("••••lue", "secret-value", SecretState.UNKNOWN),
        ("4f2a9c", "secret-value", SecretState.UNREADABLE),
        (12, "secret-value", SecretState.UNREADABLE),
    ],
)
def test_compare_secret(live: object, desired: str, state: SecretState) -> None:
    assert compare_secret(live, desired) is state


def test_fingerprint_is_salted_and_stable() -> None:
    assert fingerprint("k", "salt") == fingerprint("k", "salt")
    assert fingerprint("k", "salt") != fingerprint("k", "other")
    fp = fingerprint("a-long-secret-value", "salt")
    assert fp.startswith("hmac-sha256:")
    assert "a-long-secret-value" not in fp


def test_redact_replaces_longest_first() -> None:
    text = "token api-123456 and key api-1234567890"
    assert redact(text, ["api-123456", "api-1234567890"]) == f"token {SENSITIVE} and key {SENSITIVE}"


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("wk-0123456789", None),
        ("with inner space", None),
        ("", None),
        ("abc\n", "ends with a newline (U+000A)"),
        ("abc\r\n", "ends with a newline (U+000A)"),
        (" abc", "starts with a space (U+0020)"),
        ("\tabc", "starts with a tab (U+0009)"),
        ("abc\u00a0", "ends with whitespace (U+00A0)"),
        ("ab\x00c", "contains a control character (U+0000)"),
        ("ab\u200bc", "contains a control character (U+200B)"),
        ("ab\u202ec", "contains a control character (U+202E)"),
    ],
)
def test_flaw_describes_what_is_wrong_without_the_value(value: str, what: str | None) -> None:
    assert flaw(value) == what
