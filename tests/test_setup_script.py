"""tools/ensure_system_packages.sh: installs Graphviz where it can, else says exactly what to run."""

import os
import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "ensure_system_packages.sh"
BASH = shutil.which("bash")


def run_with_path(directory):
    return subprocess.run([BASH, str(SCRIPT), "graphviz"], capture_output=True, text=True,
                          env={**os.environ, "PATH": str(directory)})


def fake_bin(tmp_path, programs):
    directory = tmp_path / "bin"
    directory.mkdir()
    for name, body in programs.items():
        path = directory / name
        path.write_text(f"#!{BASH}\n{body}\n")
        path.chmod(0o755)
    return directory


def test_nothing_to_do_when_dot_is_present(tmp_path):
    result = run_with_path(fake_bin(tmp_path, {"dot": "exit 0"}))
    assert result.returncode == 0 and result.stdout == ""


def test_without_a_package_manager_it_stops_with_instructions(tmp_path):
    result = run_with_path(fake_bin(tmp_path, {}))
    assert result.returncode == 1
    assert "neither apt-get nor Homebrew" in result.stderr and "'dot' is on PATH" in result.stderr


def test_without_root_rights_it_prints_the_apt_command(tmp_path):
    result = run_with_path(fake_bin(tmp_path, {"apt-get": "exit 0", "id": "echo 1000"}))
    assert result.returncode == 1
    assert "sudo apt-get update && sudo apt-get install -y graphviz" in result.stderr


def test_unknown_package_is_refused(tmp_path):
    result = subprocess.run([BASH, str(SCRIPT), "texlive"], capture_output=True, text=True)
    assert result.returncode == 2 and "unknown package 'texlive'" in result.stderr


def test_an_optional_package_that_cannot_be_installed_only_warns(tmp_path):
    result = subprocess.run([BASH, str(SCRIPT), "--optional", "chromium"], capture_output=True, text=True,
                            env={**os.environ, "PATH": str(fake_bin(tmp_path, {}))})
    assert result.returncode == 0
    assert "WARNING: could not install chromium" in result.stderr and "will be skipped" in result.stderr


def test_a_required_package_that_apt_cannot_install_fails_with_the_command(tmp_path):
    directory = fake_bin(tmp_path, {"apt-get": "exit 100", "id": "echo 0"})
    result = subprocess.run([BASH, str(SCRIPT), "npm"], capture_output=True, text=True,
                            env={**os.environ, "PATH": str(directory)})
    assert result.returncode == 1
    assert "sudo apt-get update && sudo apt-get install -y npm" in result.stderr
