"""The access token from the environment: what is cleaned with a warning, what is refused."""

from __future__ import annotations

import pytest

from ldseg.errors import UsageError
from ldseg.runtime import connect

TOKEN = "api-5a4db0c5-0000-4000-8000-00000000cafe"


def conn_for(value: str, var: str = "LD_ACCESS_TOKEN") -> tuple[str, tuple[str, ...]]:
    conn = connect(base_uri="https://app.launchdarkly.com", sandbox_state=None, env={var: value})
    return conn.token, conn.notes


def test_a_clean_token_is_used_as_is() -> None:
    assert conn_for(TOKEN) == (TOKEN, ())


@pytest.mark.parametrize(
    ("value", "what"), [(TOKEN + "\n", "ends with a newline (U+000A)"), (" " + TOKEN, "starts with a space")]
)
def test_surrounding_whitespace_is_removed_with_a_warning_naming_the_variable(value: str, what: str) -> None:
    """The token is only sent, never stored: removing whitespace cannot change which token is meant,
    unlike a destination secret, which LaunchDarkly would store (an error in the config)."""
    token, notes = conn_for(value, "LAUNCHDARKLY_ACCESS_TOKEN")
    assert token == TOKEN
    assert len(notes) == 1
    assert notes[0].startswith(f"The access token in LAUNCHDARKLY_ACCESS_TOKEN {what}")
    assert TOKEN not in notes[0]


def test_the_bearer_note_names_the_variable_the_token_came_from() -> None:
    _, notes = conn_for(f"Bearer {TOKEN}", var="LAUNCHDARKLY_ACCESS_TOKEN")
    assert notes[0].endswith("Remove it from LAUNCHDARKLY_ACCESS_TOKEN to silence this warning.")


def test_a_bearer_prefix_and_a_newline_both_warn() -> None:
    token, notes = conn_for(f"Bearer {TOKEN}\n")
    assert token == TOKEN
    assert [n.split(";")[0] for n in notes] == [
        "The access token in LD_ACCESS_TOKEN ends with a newline (U+000A)",
        "The access token starts with 'Bearer '",
    ]


@pytest.mark.parametrize("value", [TOKEN[:10] + "\x00" + TOKEN[10:], TOKEN + "\u200b", "\x1b" + TOKEN])
def test_a_control_character_is_refused_without_showing_the_token(value: str) -> None:
    with pytest.raises(UsageError) as exc:
        conn_for(value)
    assert "The access token in LD_ACCESS_TOKEN " in str(exc.value)
    assert "control character" in str(exc.value)
    assert TOKEN[:10] not in str(exc.value) and TOKEN[10:] not in str(exc.value)


def test_a_token_of_whitespace_only_is_no_token() -> None:
    with pytest.raises(UsageError, match="No LaunchDarkly access token"):
        conn_for(" \n")


def test_a_token_with_a_character_no_header_can_carry_is_refused() -> None:
    with pytest.raises(UsageError) as exc:
        conn_for(TOKEN[:10] + "é" + TOKEN[10:])
    assert "contains a character that is not ASCII (U+00E9)" in str(exc.value)
    assert TOKEN[:10] not in str(exc.value)


def test_a_base_uri_with_credentials_is_refused_without_showing_them() -> None:
    with pytest.raises(UsageError) as exc:
        connect(
            base_uri="https://someone:hunter2@proxy.example",
            sandbox_state=None,
            env={"LD_ACCESS_TOKEN": TOKEN},
        )
    assert "user name or password" in str(exc.value) and "hunter2" not in str(exc.value)
