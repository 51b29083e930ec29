"""resnet_lib's architecture stays visible: no import circle, every module one job said in its docstring, none too long.

Read from the source with `ast` (tools/import_graph.py), so these tests import nothing of the library.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import import_graph

ROOT = Path(__file__).resolve().parents[1]
MODULES = import_graph.modules()
LONGEST = 600
LONGER_BECAUSE = "Longer than 600 lines because"


def test_the_import_graph_has_no_cycle():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "import_graph.py"), "--check"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "no cycle" in result.stdout


def test_the_file_formats_and_the_commands_do_not_depend_on_the_experiments():
    """The circle this test was written against: a file format naming the command that rebuilds it imported the
    experiments, which import the file format. The formats and the commands' settings sit below the experiments."""
    graph = import_graph.module_graph()
    below = {"resnet_lib.commands", "resnet_lib.sweep", "resnet_lib.landscape_study", "resnet_lib.results"}
    for module in below:
        reached = _reachable(graph, module)
        assert not {m for m in reached if m.startswith("resnet_lib.experiments")}, (module, sorted(reached))
    assert graph["resnet_lib.commands"] == set()  # a leaf: it imports nothing of resnet_lib


def _reachable(graph, start):
    seen, todo = set(), [start]
    while todo:
        for target in graph[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.mark.parametrize("files, expected", [
    # A module and a package: sweep imports a module of `experiments` that imports nothing back, but importing it
    # runs experiments/__init__, which imports depth_sweep, which imports sweep.
    ({"lib/__init__.py": "", "lib/sweep.py": "def f():\n    from lib.experiments.commands import x\n",
      "lib/experiments/__init__.py": "from lib.experiments.depth_sweep import run\n",
      "lib/experiments/commands.py": "x = 1\n",
      "lib/experiments/depth_sweep.py": "from lib import sweep\n"},
     ["packages: lib.experiments -> lib.sweep -> lib.experiments"]),
    # Two modules, one import lazy (inside a function), one relative.
    ({"lib/__init__.py": "", "lib/a.py": "def f():\n    import lib.b\n", "lib/b.py": "from . import a\n"},
     ["modules: lib.a -> lib.b -> lib.a", "packages: lib.a -> lib.b -> lib.a"]),
    # A package's __init__ and its own module: `from lib.p import name` runs lib/p/__init__.py.
    ({"lib/__init__.py": "", "lib/p/__init__.py": "from lib.p.m import g\n", "lib/p/m.py": "from lib.p import h\n"},
     ["modules: lib.p -> lib.p.m -> lib.p"]),
    # No circle: a package that imports its modules, which import a leaf.
    ({"lib/__init__.py": "", "lib/leaf.py": "import os\n", "lib/p/__init__.py": "from .m import g\n",
      "lib/p/m.py": "from lib.leaf import os\nfrom lib import leaf\n"}, []),
])
def test_the_check_finds_every_kind_of_circle(tmp_path, files, expected):
    _write(tmp_path, files)
    assert import_graph.problems(tmp_path, "lib") == expected
    assert import_graph.main(["--check", "--root", str(tmp_path), "--package", "lib"]) == (1 if expected else 0)


def test_the_graph_is_printed_one_import_a_line(capsys):
    assert import_graph.main([]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "resnet_lib.sweep -> resnet_lib.commands" in lines
    assert "resnet_lib.experiments.depth_sweep -> resnet_lib.sweep" in lines
    assert all(" -> " in line for line in lines)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_says_its_one_job_first(name):
    docstring = ast.get_docstring(ast.parse(MODULES[name].read_text(encoding="utf-8")))
    assert docstring, f"{MODULES[name].relative_to(ROOT)} has no docstring saying what it is for"
    first = docstring.splitlines()[0]
    assert first.strip() and first.endswith(".") and len(first) <= 120, (
        f"{MODULES[name].relative_to(ROOT)}: the docstring's first line should state the module's job in one "
        f"sentence of at most 120 characters, found {first!r}")


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_longer_than_600_lines_without_a_reason(name):
    text = MODULES[name].read_text(encoding="utf-8")
    length = len(text.splitlines())
    if length > LONGEST:
        assert LONGER_BECAUSE in (ast.get_docstring(ast.parse(text)) or ""), (
            f"{MODULES[name].relative_to(ROOT)} has {length} lines: split it by job, or say in its docstring why "
            f"not (a sentence starting {LONGER_BECAUSE!r})")


def test_every_package_is_named_in_pyproject_so_the_wheel_holds_it():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    listed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    packages = sorted(name for name, path in MODULES.items() if path.name == "__init__.py")
    assert sorted(listed) == packages


# The README's architecture section: five layers, each importing only from itself and the layers before it.
LAYERS = {
    0: ["_startup", "_network", "validation", "files", "config"],
    1: ["layers", "batch_norm", "blocks", "models", "weights", "analysis"],
    2: ["data", "training"],
    3: ["landscape", "lesion", "experiments", "commands", "provenance", "sweep", "landscape_study", "results"],
    4: ["plots", "widgets"],
    5: ["checks"],
}


def test_each_layer_imports_only_from_the_layers_before_it():
    """The package `resnet_lib` itself (its __init__) gathers the public names of every layer: it is left out."""
    layer = {f"resnet_lib.{name}": number for number, names in LAYERS.items() for name in names}
    packages = import_graph.package_graph(import_graph.module_graph())
    packages.pop("resnet_lib")
    assert set(packages) == set(layer), "a module is missing from LAYERS (and the README's table) or is gone: " \
        f"{sorted(set(packages) ^ set(layer))}"
    wrong = [f"{source} (layer {layer[source]}) -> {target} (layer {layer.get(target, 'the package')})"
             for source, targets in packages.items() for target in targets
             if target != "resnet_lib" and layer[target] > layer[source]]
    assert not wrong, wrong


def test_the_packages_public_names_are_imported_on_first_use_and_all_listed():
    """`resnet_lib` imports its public names lazily (`_EXPORTS`): each name of `__all__` is there and resolves to
    the object of its module, a module of the package resolves too, and anything else is an AttributeError."""
    import importlib

    import resnet_lib

    assert set(resnet_lib._EXPORTS) | {"results"} == set(resnet_lib.__all__)
    for name, module in resnet_lib._EXPORTS.items():
        assert getattr(resnet_lib, name) is getattr(importlib.import_module(module), name), name
    assert resnet_lib.results is importlib.import_module("resnet_lib.results")
    assert resnet_lib.plots is importlib.import_module("resnet_lib.plots")
    assert set(resnet_lib.__all__) <= set(dir(resnet_lib))
    with pytest.raises(AttributeError, match="module 'resnet_lib' has no attribute 'no_such_name'"):
        resnet_lib.no_such_name  # noqa: B018
