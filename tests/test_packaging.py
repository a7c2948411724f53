"""The installed distribution is one import package, `pnman` (contract §12): the
repository's layer folders become its subpackages, and nothing generic such as `rules`
or `engine` lands in site-packages where another distribution could overwrite it."""
from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.skip(f"pip could not build the wheel here (its build backend comes from the package index): "
                    f"{done.stderr.strip()[-300:]}")
    return next(out.glob("pnman-*.whl"))


def test_the_wheel_holds_one_top_level_package_and_its_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/", 1)[0] for name in names} == {"pnman", wheel.name.split("-py3")[0] + ".dist-info"}
    for needed in ("pnman/__main__.py", "pnman/knowledge/guide.yaml", "pnman/knowledge/locales/ar.yaml",
                   "pnman/rules/clips_engine.py", "pnman/interview/web/templates/", "pnman/interview/render/fonts/"):
        assert any(name.startswith(needed) for name in names), needed
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "License-Expression: MIT" in metadata and "Requires-Python: >=3.11" in metadata
    assert "durable-rules==2.0.28; python_version < \"3.13\"" in metadata and "Requires-Dist: clipspy" in metadata


def test_installed_in_a_fresh_environment_pnman_is_the_only_name(wheel, tmp_path):
    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, timeout=300,
                   capture_output=True)
    listing = subprocess.run([str(python), "-c", "import pnman, sysconfig, os; "
                              "print(pnman.__file__); print(sorted(os.listdir(sysconfig.get_paths()['purelib'])))"],
                             cwd=tmp_path, capture_output=True, text=True, check=True).stdout.splitlines()
    assert "site-packages" in listing[0]
    top = {name for name in eval(listing[1]) if not name.startswith(("_", "pip", "setuptools", "pkg_resources"))
           and name != "__pycache__" and not name.endswith(".pth")}
    assert {name for name in top if not name.endswith(".dist-info")} == {"pnman"}
    for generic in ("rules", "engine", "knowledge", "interview"):
        assert generic not in top
