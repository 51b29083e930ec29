"""resnet_lib installs as a package: as a wheel, and from a git URL (how Colab installs it)."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # pip builds a wheel and installs from a git URL

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_FILES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "resnet_lib").rglob("*")
                       if p.suffix in (".py", ".json") and "__pycache__" not in p.parts)
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_wheel_contains_every_module(tmp_path):
    run([*PIP, "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(tmp_path), str(ROOT)])
    (wheel,) = tmp_path.glob("resnet_lib-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert sorted(n for n in names if n.startswith("resnet_lib/")) == PACKAGE_FILES
    assert "resnet_lib/results/depth_sweep.json" in PACKAGE_FILES
    assert "Requires-Dist: keras>=3.14.0" in metadata


def test_installs_from_a_git_url_and_builds_resnet50(tmp_path):
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing to install from a git URL")
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True).returncode:
        pytest.skip("the repository has no commit yet")
    target = tmp_path / "site"
    run([*PIP, "install", "--no-deps", "--no-build-isolation", "--target", str(target), f"git+file://{ROOT}"])
    probe = ("import resnet_lib, resnet_lib.sweep as s; print(resnet_lib.__file__); "
             "print(s.depths(s.load_sweep()) == [8, 14, 20, 32, 44, 56]); print(resnet_lib.resnet50().count_params())")
    env = {**os.environ, "PYTHONPATH": str(target), "TF_CPP_MIN_LOG_LEVEL": "2"}
    location, sweep_loaded, parameters = run([sys.executable, "-c", probe], cwd=tmp_path, env=env).split()[-3:]
    assert Path(location).is_relative_to(target)
    assert sweep_loaded == "True"  # the shipped results come with the package
    assert parameters == "23600006"
