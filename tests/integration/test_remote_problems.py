"""Every problem one read of LaunchDarkly can find comes out in one run, not in rounds."""

from __future__ import annotations

from tests.integration.conftest import Runner

CONFIG = """
version: 1
projects:
  mobil:                                        # a typo: LaunchDarkly has mobile
    environments:
      production:
        export:
          flags: {keys: [cannot-be-checked]}
  mobile:
    environments:
      production:
        export:
          flags: {tags: [analytics], keys: [gone-flag]}
  web:
    environments:
      production:
        export:
          flags: {keys: [checkout-v2, no-such-flag], others: keep}
      stagin:                                   # a typo: LaunchDarkly has staging
        export:
          flags: {keys: [checkout-v2, also-missing, "glob-*"], others: keep}
"""


def test_missing_projects_environments_and_keys_are_all_reported_at_once(ldseg: Runner) -> None:
    result = ldseg("plan", "-c", ldseg.config(CONFIG))
    assert result.exit_code == 1
    errors = [line.strip() for line in result.stderr.splitlines() if ": error: " in line]
    assert "The configuration has 5 problems:" in result.stderr, result.stderr
    expected = [
        "project 'mobil' does not exist in LaunchDarkly",
        "environment 'stagin' does not exist in project 'web'",
        "export.flags.keys of web/production: flag 'no-such-flag' does not exist in project 'web'",
        # the selection of the missing environment: its exact keys are still checked
        "export.flags.keys of web/stagin: flag 'also-missing' does not exist in project 'web'",
        # another project, read as usual
        "export.flags.keys of mobile/production: flag 'gone-flag' does not exist in project 'mobile'",
    ]
    for text in expected:
        assert sum(text in e for e in errors) == 1, (text, errors)
    assert not any("checkout-v2" in e or "cannot-be-checked" in e for e in errors)
    assert ldseg.sandbox.store.audit_log == []  # nothing written


def test_keys_of_a_missing_environment_are_read_without_environments(ldseg: Runner) -> None:
    """The key check of a missing environment sends no env= (LaunchDarkly would not know it)."""
    ldseg("plan", "-c", ldseg.config(CONFIG))
    flag_gets = [r for r in ldseg.sandbox.requests() if r["path"].startswith("/api/v2/flags/web/")]
    also = [r for r in flag_gets if r["path"].endswith("/also-missing")]
    assert len(also) == 1 and also[0]["query"] == {}
