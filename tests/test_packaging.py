"""The built wheel ships every module, schema, default template and `py.typed`."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
_CACHES = shutil.ignore_patterns("__pycache__", "*.egg-info")


def test_wheel_ships_every_module_schema_and_template(tmp_path):
    # Built from a copy: setuptools reuses an in-tree build/ directory, stale files and all.
    source = tmp_path / "source"
    for folder in ("mct_component", "templates"):
        shutil.copytree(ROOT / folder, source / folder, ignore=_CACHES)
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"),
            *("--wheel-dir", str(tmp_path), str(source)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("mct_component-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())

    package = ROOT / "mct_component"
    expected = {
        f"mct_component/{path.relative_to(package).as_posix()}"
        for pattern in ("**/*.py", "schemas/*.json", "py.typed")
        for path in package.glob(pattern)
    }
    expected |= {f"mct_component/templates/{p.name}" for p in (ROOT / "templates").iterdir()}
    expected = {name for name in expected if "__pycache__" not in name}
    assert not expected - shipped, f"missing from the wheel: {sorted(expected - shipped)}"
