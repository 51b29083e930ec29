"""Nothing lost, nothing cryptic: the sweep command interrupted, killed, resumed; broken files refused.

The cases are the ones a user meets: Ctrl-C (SIGINT to the process group) in a real
`python -m resnet_lib.experiments depth-sweep`, SIGKILL of its parent process, a truncated or
re-encoded file, a wrong argument. Each asserts the message names the problem and that no
committed file changed.
"""

import copy
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from resnet_lib import experiments, results, sweep
from resnet_lib.experiments import depth_sweep as sweep_experiment  # its worker, patched below

ROOT = Path(__file__).resolve().parents[1]
TINY = experiments.depth_sweep_recipe(depths=(8,), epochs=1)
# TensorFlow prints a few C++ notices at start-up whatever the log level; they are not ours.
TF_NOISE = re.compile(r"^(I0000|W0000|E0000|WARNING: All log messages|To enable the following)")


def committed_results() -> dict:
    return {path.name: path.read_bytes() for path in (ROOT / "resnet_lib" / "results").glob("*.json")}


def sweep_command(out, *extra, jobs="0"):
    return [sys.executable, "-m", "resnet_lib.experiments", "depth-sweep", "--depths", "8", "--seeds", "0", "1",
            "--epochs", "1", "--jobs", jobs, *extra, "--out", str(out)]


# Runs the command given after it with SIGINT's default disposition, as a command typed in a terminal has: a test run
# started in the background (`make test &`, a CI runner) ignores SIGINT, and its children inherit that.
AS_IN_A_TERMINAL = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                    "os.execv(sys.argv[1], sys.argv[1:])")


def start(command, cwd, log=None):
    """Starts `command` in a session of its own, so that SIGINT can go to the whole process group, as
    Ctrl-C in a terminal does, and with SIGINT handled as in a terminal (AS_IN_A_TERMINAL: the same process,
    so its pid leads the group). Its output goes to pipes, or to the file `log` (the workers inherit
    it: a pipe would stay open, and reading it wait, as long as any of them lives)."""
    output = subprocess.PIPE if log is None else open(log, "w")
    return subprocess.Popen([sys.executable, "-c", AS_IN_A_TERMINAL, *command], cwd=cwd,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, text=True, stdout=output, stderr=output,
                            start_new_session=True)


def wait_for(condition, process, timeout=120):
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the command ended early ({process.returncode}):\n{process.communicate()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"timed out:\n{process.communicate()}")
        time.sleep(0.1)


def own_lines(stderr: str) -> list[str]:
    """The lines of stderr that are neither the progress bar nor TensorFlow's start-up notices."""
    lines = [line for line in re.split(r"[\r\n]", stderr) if line.strip()]
    return [line for line in lines if not line.startswith("depth sweep:") and not TF_NOISE.match(line)]


def alive(pid: int) -> bool:
    """True if `pid` is a running process (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace") \
                        and alive(int(entry.name)):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def a_finished_sweep(seeds=(0,)) -> dict:
    """A complete sweep file's contents with the TINY recipe, made of the committed runs (no training)."""
    committed = json.loads(results.path("depth_sweep").read_text())
    return {"recipe": TINY, "seeds": list(seeds), "kinds": ["plain", "residual"],
            "runs": {kind: {"8": {str(s): committed["runs"][kind]["8"][str(s)] for s in seeds}}
                     for kind in ("plain", "residual")},
            "provenance": committed["provenance"], "complete": True}


# --- Ctrl-C and SIGKILL in a real sweep ---------------------------------------------------------------

def _raises_another_error_on_ctrl_c(task):
    """A worker whose library code catches everything, as TensorFlow's `DType.max` does: Ctrl-C while it runs
    comes out as a TypeError (seen in a real interrupted sweep)."""
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(10)
    except:  # noqa: E722 (the bare except of the library code this stands for)
        raise TypeError("Cannot find maximum value of <dtype: 'int32'>.")
    raise AssertionError("SIGINT did not interrupt the worker")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_that_library_code_turns_into_another_error_still_stops_the_sweep_cleanly(tmp_path):
    """The error that replaced the KeyboardInterrupt becomes a SweepInterrupted again (the command prints its one
    line and exits 130), the partial file keeps the runs done; an error without Ctrl-C stays what it is."""
    from resnet_lib.experiments._grid import finish_grid_run, run_tasks

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's own, as in a command
    try:
        out = tmp_path / "grid.json"
        tasks = [(None, "plain", 8, 0), (None, "plain", 8, 1)]

        def worker(task):  # the first run finishes, Ctrl-C comes during the second
            return task[1:] + ("value",) if task is tasks[0] else _raises_another_error_on_ctrl_c(task)

        result = {"recipe": {}, "seeds": [0, 1], "kinds": ["plain", "residual"], "runs": {"plain": {}, "residual": {}}}
        with pytest.raises(experiments.SweepInterrupted) as stop:
            finish_grid_run(result, "runs", tasks, worker, kept_runs=0, source=None, out=out,
                            save=lambda contents, path: Path(path).write_text(json.dumps(contents)), jobs=0,
                            progress=False, description="grid", unit="run", noun="sweep", summary=str,
                            provenance_extras={}, command=["test"], start=time.perf_counter())
        assert str(stop.value).startswith("interrupted; 1 run of the sweep kept in ") and stop.value.path.exists()
        assert isinstance(stop.value.__context__.__cause__, TypeError)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
        with pytest.raises(TypeError, match="Cannot find maximum"):  # without Ctrl-C: the error itself

            def fails(task):
                raise TypeError("Cannot find maximum value of <dtype: 'int32'>.")

            run_tasks(tasks, fails, print, jobs=0, progress=False, description="grid", summary=str)
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.slow  # a real sweep, interrupted and resumed
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_keeps_the_finished_runs_beside_out_and_the_same_command_resumes(tmp_path):
    committed = committed_results()
    out = tmp_path / "sweep.json"
    partial = experiments.partial_path(out)
    sweep.save_sweep(a_finished_sweep(), out)  # a finished sweep that --fresh must not touch until it is done
    before = out.read_bytes()

    process = start(sweep_command(out, "--fresh"), tmp_path)
    wait_for(partial.exists, process)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    lines = own_lines(stderr)
    assert len(lines) == 1, stderr
    kept = sweep.load_sweep(partial, partial=True)  # the partial file is whole, and says it is not a finished sweep
    assert kept["complete"] is False and kept["recipe"] == TINY
    count = sum(len(by_seed) for by_depth in kept["runs"].values() for by_seed in by_depth.values())
    resume = shlex.join(sweep_command(out)[1:])
    assert lines[0] == (f"depth-sweep interrupted; {count} run{'s' if count > 1 else ''} of the sweep kept in "
                        f"{partial}; {out} is unchanged. Resume with: python {resume}")
    assert "--fresh" not in lines[0]
    assert out.read_bytes() == before  # the finished sweep is still there, untouched

    command = shlex.split(lines[0].split("Resume with: ")[1])
    done = subprocess.run([sys.executable, *command[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr
    result = sweep.load_sweep(out)
    assert result["complete"] is True and result["provenance"]["runs_reused"] == count >= 1
    assert sweep.seeds(result) == [0, 1] and len(result["runs"]["plain"]["8"]["0"]["loss"]) == 1  # the fresh runs
    assert not partial.exists()
    assert committed_results() == committed


@pytest.mark.slow  # a real sweep with worker processes
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_with_worker_processes_ends_them_and_prints_one_line(tmp_path):
    out = tmp_path / "workers.json"
    partial = experiments.partial_path(out)
    process = start(sweep_command(out, jobs="2"), tmp_path)
    wait_for(partial.exists, process)
    workers = children(process.pid)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    lines = own_lines(stderr)
    assert len(lines) == 1 and lines[0].startswith("depth-sweep interrupted; ") and f"kept in {partial};" in lines[0]
    assert f"; {out} is written only once the sweep is complete. Resume with: " in lines[0]
    assert lines[0].endswith(f"--jobs 2 --out {out}")
    assert not out.exists() and sweep.load_sweep(partial, partial=True)["complete"] is False
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in workers if alive(pid)]


@pytest.mark.slow  # a real sweep, killed
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killing_the_sweep_leaves_no_worker_or_resource_tracker_behind(tmp_path):
    out = tmp_path / "killed-sweep-unique.json"
    partial = experiments.partial_path(out)
    process = start(sweep_command(out, jobs="2"), tmp_path, log=tmp_path / "log")
    wait_for(partial.exists, process)  # a run is saved: the workers are at work
    spawned = children(process.pid)  # the two workers and multiprocessing's resource tracker
    workers = [pid for pid in spawned if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    assert len(workers) == 2, [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in spawned]
    process.kill()
    killed = time.monotonic()
    process.wait(timeout=30)

    # The workers die with their parent (the kernel's parent-death signal): at once, not after their run.
    while [pid for pid in workers if alive(pid)] and time.monotonic() < killed + 3:
        time.sleep(0.05)
    assert not [pid for pid in workers if alive(pid)], f"workers still alive {time.monotonic() - killed:.1f} s later"
    deadline = killed + 15
    while time.monotonic() < deadline and ([pid for pid in spawned if alive(pid)] or processes_mentioning(str(out))
                                           or processes_mentioning(f"={process.pid}")):
        time.sleep(0.2)
    assert not [pid for pid in spawned if alive(pid)], "orphans left: " + ", ".join(
        Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ") for pid in spawned if alive(pid))
    assert not processes_mentioning(str(out))
    assert sweep.load_sweep(partial, partial=True)["complete"] is False and not out.exists()  # what was saved is whole


# --- refused before any training ----------------------------------------------------------------------

@pytest.mark.slow  # the real command in a subprocess
def test_a_truncated_partial_file_is_refused_at_once_with_fresh_as_the_way_out(tmp_path):
    out = tmp_path / "sweep.json"
    partial = experiments.partial_path(out)
    state = {**a_finished_sweep(), "complete": False}
    sweep.save_sweep(state, partial)
    partial.write_bytes(partial.read_bytes()[:3000])  # what a full disk or a copy cut short leaves
    truncated = partial.read_bytes()

    done = subprocess.run(sweep_command(out), cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 2
    lines = own_lines(done.stderr)
    assert lines[0].startswith("usage: python -m resnet_lib.experiments depth-sweep")
    assert re.fullmatch(
        rf"python -m resnet_lib.experiments depth-sweep: error: '{re.escape(str(partial))}' is not valid JSON "
        r"\(it ends mid-way: the file was cut short\): "
        r".*The sweep cannot resume from it\. To start over, run the command again with --fresh .*", lines[-1])
    assert partial.read_bytes() == truncated and not out.exists()


def partial_file(tmp_path, contents) -> Path:
    path = experiments.partial_path(tmp_path / "sweep.json")
    if isinstance(contents, bytes):
        path.write_bytes(contents)
    else:
        path.write_text(json.dumps(contents))  # as written, broken or not (save_sweep refuses a broken sweep)
    return path


@pytest.mark.parametrize("contents, problem", [
    (lambda: json.dumps({**a_finished_sweep(), "complete": False}).encode("utf-16"), r"is UTF-16 text"),
    (lambda: {"recipe": TINY, "seeds": [0], "complete": False}, r": it lacks \['runs'\]: not a depth sweep"),
    (lambda: {**a_finished_sweep(), "recipe": {**TINY, "epochs": 3}, "complete": False},
     r"holds a sweep made with another recipe \(epochs 3 instead of 1\)"),
    (lambda: {**a_finished_sweep(), "runs": {"plain": {"eight": {}}}, "complete": False},
     r": runs\['plain'\] has the depth 'eight', which is not an integer"),
])
def test_an_unusable_partial_file_is_refused_before_any_training(tmp_path, monkeypatch, capsys, contents, problem):
    path = partial_file(tmp_path, contents())
    before = path.read_bytes()
    monkeypatch.setattr(sweep_experiment, "_sweep_worker", lambda task: pytest.fail("trained"))
    with pytest.raises(SystemExit) as refused:
        experiments.main(["depth-sweep", "--depths", "8", "--seeds", "0", "--epochs", "1", "--jobs", "0",
                          "--out", str(tmp_path / "sweep.json")])
    assert refused.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert re.search(rf"error: '{re.escape(str(path))}'.*{problem}", error), error
    assert "--fresh" in error and path.read_bytes() == before and not (tmp_path / "sweep.json").exists()


@pytest.mark.parametrize("arguments, message", [
    (["--depths", "7", "8"], "--depths must be 6n + 2 with n >= 1 (8, 14, 20, 26, 32, 38, 44, 50, 56, ...), received 7"),
    (["--depths", "8", "8"], "--depths lists 8 more than once, received 8 8."),
    (["--seeds", "-1"], "--seeds must be at least 0, received -1."),
    (["--epochs", "0"], "--epochs must be at least 1, received 0."),
    (["--jobs", "-1"], "--jobs must be at least 0, received -1."),
])
def test_sweep_arguments_are_checked_before_any_training(tmp_path, monkeypatch, capsys, arguments, message):
    monkeypatch.setattr(sweep_experiment, "_sweep_worker", lambda task: pytest.fail("trained"))
    with pytest.raises(SystemExit) as refused:
        experiments.main(["depth-sweep", *arguments, "--out", str(tmp_path / "s.json")])
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: ") and message in err.strip().splitlines()[-1]
    assert not list(tmp_path.iterdir())


def test_an_invalid_depth_is_refused_at_once_by_the_real_command(tmp_path):
    """Refused before anything heavy: no training, no file, and not even TensorFlow imported (`-X importtime`
    lists every module the process imported), so the answer comes in a fraction of a second."""
    command = sweep_command(tmp_path / "s.json")
    done = subprocess.run([command[0], "-X", "importtime", *command[1:5], "7", "8", "--out", str(tmp_path / "s.json")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")]
    refusal = [line for line in done.stderr.splitlines() if not line.startswith("import time:")]
    assert done.returncode == 2 and "--depths must be 6n + 2" in refusal[-1], refusal
    assert "depth sweep:" not in done.stderr and not list(tmp_path.iterdir())  # no training, no file
    assert "resnet_lib.experiments.cli" in imported and "numpy" in imported  # the list is the real one
    assert not [name for name in imported if name.split(".")[0] in ("tensorflow", "keras")], "imported TensorFlow"


# --- broken files, as the loaders see them ------------------------------------------------------------

def committed_sweep() -> dict:
    return json.loads(results.path("depth_sweep").read_text())


def mutated(change):
    def make():
        data = copy.deepcopy(committed_sweep())
        change(data)
        return json.dumps(data, indent=1).encode()
    return make


CASES = {
    "utf-16": (lambda: json.dumps(committed_sweep(), indent=1).encode("utf-16"),
               r"is UTF-16 text \('utf-8' codec can't decode byte 0xff in position 0.*Save the file again as UTF-8"),
    "latin-1": (lambda: json.dumps(committed_sweep(), indent=1, ensure_ascii=False).replace('"digits"', '"digïts"')
                .encode("latin-1"), r"is not UTF-8 text"),
    "truncated": (lambda: json.dumps(committed_sweep(), indent=1).encode()[:5000],
                  r"is not valid JSON \(it ends mid-way: the file was cut short\): Unterminated"),
    "not an object": (lambda: b"[1, 2]", r"must hold a JSON object, found list"),
    "runs a list": (mutated(lambda d: d.__setitem__("runs", [])),
                    r": 'runs' is a list, not a mapping \{kind: \{depth: \{seed: run\}\}\}"),
    "depth 'eight'": (mutated(lambda d: d["runs"]["plain"].__setitem__("eight", d["runs"]["plain"].pop("8"))),
                      r": runs\['plain'\] has the depth 'eight', which is not an integer"),
    "no val_loss": (mutated(lambda d: d["runs"]["plain"]["8"]["1"].pop("val_loss")),
                    r": runs\['plain'\]\['8'\]\['1'\] lacks \['val_loss'\]"),
    "no gradient norms": (mutated(lambda d: d["runs"]["residual"]["56"]["2"].pop("gradient_norms_final")),
                          r": runs\['residual'\]\['56'\]\['2'\] lacks \['gradient_norms_final'\]"),
    "an epoch short": (mutated(lambda d: d["runs"]["plain"]["8"]["1"]["loss"].pop()),
                       r": runs\['plain'\]\['8'\]\['1'\] has 11 epochs of 'loss', the others 12"),
    "shorter than the recipe": (mutated(lambda d: d["recipe"].__setitem__("epochs", 20)),
                                r": runs\['plain'\]\['8'\]\['0'\] has 12 epochs of 'loss', the recipe says 20"),
    "'0.5?'": (mutated(lambda d: d["runs"]["residual"]["20"]["2"]["val_accuracy"].__setitem__(3, "0.5?")),
               r": runs\['residual'\]\['20'\]\['2'\]\['val_accuracy'\]\[3\] is '0.5\?', not a number"),
    "a seed missing": (mutated(lambda d: d["runs"]["residual"]["20"].pop("2")),
                       r": runs lacks 1 of the 36 runs that its kinds \['plain', 'residual'\], the recipe's depths "
                       r"\[8, 14, 20, 32, 44, 56\] and its seeds \[0, 1, 2\] ask for: residual-20 seed 2\. Rebuild"),
    "a depth missing": (mutated(lambda d: d["runs"]["residual"].pop("20")),
                        r": runs lacks 3 of the 36 runs .*: residual-20 seed 0, residual-20 seed 1, residual-20 seed 2\."),
    # Complete by its own account, and each kind has the same depths: but the recipe lists a depth no run has.
    "a recipe depth without runs": (mutated(lambda d: [d["runs"][kind].pop("56") for kind in ("plain", "residual")]),
                                    r": runs lacks 6 of the 36 runs .*: plain-56 seed 0, plain-56 seed 1, plain-56 "
                                    r"seed 2, residual-56 seed 0"),
    "a run beyond the recipe": (mutated(lambda d: d["recipe"].__setitem__("depths", [8, 14, 20, 32, 44])),
                                r": runs holds 6 run\(s\) beyond its kinds .*depths \[8, 14, 20, 32, 44\].*: plain-56 seed 0"),
    "seeds missing": (mutated(lambda d: d.pop("seeds")),
                      r": 'seeds' is None, not the list of seeds its runs were made with"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_broken_sweep_file_is_refused_naming_the_problem_and_the_command_that_rebuilds_it(tmp_path, case):
    contents, problem = CASES[case]
    path = tmp_path / "x.json"
    path.write_bytes(contents())
    with pytest.raises(ValueError) as refused:
        sweep.load_sweep(path)
    message = str(refused.value)
    assert message.startswith(f"'{path}'") and re.search(problem, message), message
    assert re.search(r"Rebuild it with `python -m resnet_lib.experiments depth-sweep --fresh (--epochs 20 |--depths 8 14 20 32 44 )?--out "
                     rf"{re.escape(str(path))}`\.$", message), message


def test_a_sweep_without_the_complete_mark_is_refused_as_unfinished(tmp_path):
    data = committed_sweep()
    del data["complete"]
    path = tmp_path / "x.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError) as refused:
        sweep.load_sweep(path)
    assert str(refused.value) == (
        f"'{path}' is a partial, unfinished run: it lacks \"complete\": true, which `python -m resnet_lib.experiments` "
        f"adds last, once the run has finished. Complete it with `python -m resnet_lib.experiments depth-sweep --out "
        f"{path}` (it resumes where the run stopped).")
    with pytest.raises(ValueError, match=r"partial, unfinished run.*depth-sweep --depths 8 --seeds 0 --epochs 1 "
                                         rf"--out {re.escape(str(tmp_path / 'sweep.json'))}` \(it resumes"):
        sweep.load_sweep(partial_file(tmp_path, {**a_finished_sweep(), "complete": False}))


def test_dicts_handed_to_the_readers_are_checked_too():
    from resnet_lib.widgets import DepthExplorer

    data = committed_sweep()
    data["runs"]["plain"]["8"]["1"]["loss"][2] = "nan?"
    with pytest.raises(ValueError, match=r"^the sweep: runs\['plain'\]\['8'\]\['1'\]\['loss'\]\[2\] is 'nan\?'"):
        sweep.degradation_checks(data)
    with pytest.raises(ValueError, match=r"^the sweep: .*Pass a sweep read by `resnet_lib.sweep.load_sweep\(\)`"):
        DepthExplorer(data, progress=False)


def test_shipped_results_carry_the_complete_mark_and_load_refuses_one_without(tmp_path, monkeypatch):
    for name in results.names():
        assert results.load(name)["complete"] is True
    unfinished = json.loads(results.path("plain_depths").read_text())
    del unfinished["complete"]
    path = tmp_path / "plain_depths.json"
    path.write_text(json.dumps(unfinished))
    monkeypatch.setattr(results, "path", lambda name: path)
    with pytest.raises(ValueError) as refused:
        results.load("plain_depths")
    assert str(refused.value) == (
        f"'{path}' is a partial, unfinished run: it lacks \"complete\": true, which `python -m resnet_lib.experiments` "
        f"adds last, once the run has finished. Rebuild it with `python -m resnet_lib.experiments plain-depths --out "
        f"{path}`.")


def test_ship_results_refuses_an_unfinished_file_and_replaces_nothing(tmp_path, monkeypatch, capsys):
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import ship_results
    finally:
        sys.path.remove(str(ROOT / "tools"))
    committed = committed_results()
    shipped = tmp_path / "shipped"  # where this test lets it ship to (the real folder is compared too)
    shipped.mkdir()
    for name, data in committed.items():
        (shipped / name).write_bytes(data)
    monkeypatch.setattr(ship_results, "SHIPPED", shipped)
    monkeypatch.setattr(ship_results, "ROOT", tmp_path)
    built = tmp_path / "_build" / "results"
    built.mkdir(parents=True)
    finished = json.loads(committed["plain_depths.json"])  # a finished run that differs from the shipped one
    finished["provenance"]["wall_seconds"] = -1.0
    (built / "plain_depths.json").write_text(json.dumps(finished))
    unfinished = json.loads(committed["depth_sweep.json"])
    del unfinished["complete"]
    (built / "depth_sweep.json").write_text(json.dumps(unfinished))

    assert ship_results.main([str(built / "plain_depths.json"), str(built / "depth_sweep.json")]) == 1
    err = capsys.readouterr().err
    assert err == (f"ship_results: '{built / 'depth_sweep.json'}' is a partial, unfinished run: it lacks \"complete\": "
                   "true, which `python -m resnet_lib.experiments` adds last, once the run has finished. Complete it "
                   f"with `python -m resnet_lib.experiments depth-sweep --out {built / 'depth_sweep.json'}` (it resumes "
                   "where the run stopped). Nothing was replaced.\n")
    assert {name: (shipped / name).read_bytes() for name in committed} == committed  # not even plain_depths
    assert committed_results() == committed


def test_nbval_is_handed_the_recorded_outputs_of_the_checked_cells(tmp_path, monkeypatch):
    """Nothing checked in vain: the chapters are stored without outputs, and nbval compares only a cell
    whose stored copy ran (nbval/plugin.py: `unrun = self.cell.execution_count is None`); it has no
    option to take reference outputs from anywhere but the notebook file. The root conftest.py therefore
    wraps the `nbformat` nbval reads notebooks with, adding the outputs recorded in tests/expected_outputs/.
    Were nbval to stop reading through it, every cell tagged nbval-check-output would pass unchecked."""
    import inspect

    import expected_outputs  # tools/, put on sys.path by the root conftest.py
    import nbformat
    import nbval.plugin

    assert "nbformat.read(" in inspect.getsource(nbval.plugin.IPyNbFile.collect)
    checked = nbformat.v4.new_code_cell(expected_outputs.MARKER + "\nprint(6 * 7)")
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[checked, nbformat.v4.new_code_cell("print('free')")]), path)
    monkeypatch.setattr(expected_outputs, "EXPECTED", tmp_path)
    recorded = [{"output_type": "stream", "name": "stdout", "text": "42\n"}]
    (tmp_path / "chapter.json").write_text(json.dumps({expected_outputs.cell_key(checked.source): recorded}))

    first, second = nbval.plugin.nbformat.read(str(path), as_version=4).cells
    assert first.execution_count == 1 and first.outputs == recorded  # compared by nbval
    assert second.execution_count is None and second.outputs == []  # not compared (--nbval-lax)
    assert nbformat.read(path, as_version=4).cells[0].outputs == []  # the file itself stays clean
