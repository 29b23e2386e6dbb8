import pytest

from ldseg.interpolate import interpolate


@pytest.mark.parametrize(
    ("text", "env", "value", "missing"),
    [
        ("${A}", {"A": "x"}, "x", ()),
        ("pre-${A}-post", {"A": "x"}, "pre-x-post", ()),
        ("${A:-d}", {}, "d", ()),
        ("${A:-d}", {"A": ""}, "d", ()),
        ("${A:-}", {}, "", ()),
        ("${A}", {}, "${A}", ("A",)),
        ("$${A}", {"A": "x"}, "${A}", ()),
        ("cost $5", {}, "cost $5", ()),
        ("${A}${B}", {"A": "1", "B": "2"}, "12", ()),
    ],
)
def test_interpolate(text: str, env: dict[str, str], value: str, missing: tuple[str, ...]) -> None:
    res = interpolate(text, env)
    assert res.value == value
    assert res.missing == missing


def test_malformed_reference_is_reported() -> None:
    res = interpolate("${not valid}", {})
    assert res.malformed == ("${not valid}",)
