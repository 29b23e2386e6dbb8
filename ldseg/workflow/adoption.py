"""``ldseg export`` as a step: read the account (or some projects and environments of it) and
render it as ldseg.yaml files, then write them where asked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from ldseg.errors import OutputError
from ldseg.exporter import Exported, export_config
from ldseg.ld.account import Account, read_account
from ldseg.runtime import Connection


def export_account(
    conn: Connection, projects: Sequence[str], envs: Sequence[str], *, per_project: bool
) -> tuple[Account, Exported]:
    """The account as read, and the config files rendering it."""
    with conn.reader() as client:
        acct = read_account(client, projects, envs)
    source = "the embedded sandbox" if conn.sandbox is not None else conn.base_uri
    return acct, export_config(acct, include_all=bool(projects), per_project=per_project, source=source)


def write_files(target: Path, files: Mapping[str, str], per_project: bool) -> list[Path]:
    """Write ``files`` to ``target`` (a file, or a directory with one file per project)."""
    paths = [target / name for name in files] if per_project else [target]
    try:
        if per_project:
            target.mkdir(parents=True, exist_ok=True)
        for path, text in zip(paths, files.values(), strict=True):
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"Cannot write {exc.filename or target}: {exc.strerror or exc}.") from None
    return paths
