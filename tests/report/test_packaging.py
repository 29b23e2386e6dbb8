"""The report's templates and schema ship with ldseg: in the package (an editable install) and in
the wheel that ``pip install ldseg`` would install."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from importlib.resources import files
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = ("report.html.j2", "report.css", "report.js")


def test_the_templates_are_package_data() -> None:
    folder = files("ldseg.render").joinpath("templates")
    for name in TEMPLATES:
        assert folder.joinpath(name).is_file(), name


def test_the_wheel_holds_the_templates_and_the_schema(tmp_path: Path) -> None:
    argv = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--no-deps",
        "--wheel-dir",
        str(tmp_path),
        str(REPO),
    ]
    built = subprocess.run(argv, capture_output=True, text=True, timeout=240)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("ldseg-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"ldseg/render/templates/{n}" for n in TEMPLATES} <= names
    assert "ldseg/_data/schemas/report.schema.json" in names
