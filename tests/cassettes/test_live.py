"""Record against a real LaunchDarkly account (read-only), then replay what was recorded.

The sandbox is an emulation; this is how its assumptions meet the real API. With
``LD_ACCESS_TOKEN`` and ``LDSEG_LIVE_PROJECT`` set (``LD_BASE_URI`` optional), it runs ``ldseg
export`` and ``ldseg plan`` on that project, recording ``tests/cassettes/live/<project>.yaml``
with every secret scrubbed (destination secrets become ``********`` whatever LD's mask showed).
It never writes: any request other than GET is refused before it is sent. Every recorded exchange
is then checked against LD's OpenAPI spec (a violation here means the spec, or our reading of it,
differs from LD), and the same commands are replayed from the cassette with no network, which must
print the same plan. Without the variables it is skipped (and shows as skipped).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml
from click.testing import CliRunner

from ldseg.cli import cli
from ldseg.ld.client import DEFAULT_BASE_URI
from tests.contract.checker import ContractChecker
from tests.contract.harness import CASSETTE_DIR, FAKE_BASE_URI, make_vcr, refuse_writes

TOKEN = os.environ.get("LD_ACCESS_TOKEN") or os.environ.get("LAUNCHDARKLY_ACCESS_TOKEN")
PROJECT = os.environ.get("LDSEG_LIVE_PROJECT")
LIVE_DIR = CASSETTE_DIR / "live"

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not (TOKEN and PROJECT),
        reason="live LaunchDarkly recording: set LD_ACCESS_TOKEN and LDSEG_LIVE_PROJECT (read-only: "
        "export + plan of that project) to record tests/cassettes/live/<project>.yaml",
    ),
]


def run(args: list[str], base_uri: str, token: str) -> tuple[int, str, str]:
    env: dict[str, str | None] = {
        "LD_ACCESS_TOKEN": token,
        "LAUNCHDARKLY_ACCESS_TOKEN": None,
        "LD_BASE_URI": base_uri,
        "NO_COLOR": "1",
    }
    res = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    return res.exit_code, res.stdout, res.stderr


def test_live_read_only_recording_and_replay(tmp_path: Path) -> None:
    assert TOKEN and PROJECT
    base_uri = os.environ.get("LD_BASE_URI") or DEFAULT_BASE_URI
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", PROJECT) + ".yaml"
    LIVE_DIR.mkdir(exist_ok=True)
    (LIVE_DIR / name).unlink(missing_ok=True)
    exported = tmp_path / "ldseg.yaml"
    steps = [["export", "--project", PROJECT, "-o", str(exported)], ["plan", "-c", str(exported)]]

    recorder = make_vcr(record=True, strict_secrets=True, directory=LIVE_DIR)
    recorder.before_record_request = refuse_writes
    recorded = []
    with recorder.use_cassette(name):
        for args in steps:
            code, out, err = run(args, base_uri, TOKEN)
            assert code == 0, err
            assert TOKEN not in out + err
            recorded.append(out if args[0] == "plan" else "")

    checker = ContractChecker(profile="ldseg")
    doc = yaml.safe_load((LIVE_DIR / name).read_text(encoding="utf-8"))
    for item in doc["interactions"]:
        request, response = item["request"], item["response"]
        url = urlsplit(request["uri"])
        headers = {k: v[0] for k, v in request["headers"].items()}
        headers["authorization"] = "api-recorded"  # scrubbed; ldseg sent the raw token
        checker.check_request(request["method"], url.path, parse_qsl(url.query), headers, b"")
        content_type = (response["headers"].get("content-type") or [None])[0]
        body = (response["body"].get("string") or "").encode()
        checker.check_response(request["method"], url.path, response["status"]["code"], content_type, body)
    assert TOKEN not in (LIVE_DIR / name).read_text(encoding="utf-8")
    checker.assert_clean()

    replayed = []
    with make_vcr(record=False, directory=LIVE_DIR).use_cassette(name):
        for args in steps:
            code, out, err = run(args, FAKE_BASE_URI, "api-replay")
            assert code == 0, err
            replayed.append(out if args[0] == "plan" else "")
    assert replayed == recorded
