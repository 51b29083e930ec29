"""The import graph of resnet_lib, read from its source with `ast` (nothing is imported), and its cycles.

    python tools/import_graph.py              # every import between resnet_lib's modules, one "a -> b" a line
    python tools/import_graph.py --packages   # the same with each subpackage as one node
    python tools/import_graph.py --check      # one line: no cycle (exit 0), or each cycle named (exit 1)

Every `import` and `from ... import` of a module counts, those inside functions (the lazy ones)
included: a lazy import is a dependency all the same. Each is resolved to the module it loads:
`from resnet_lib import sweep` to `resnet_lib.sweep`, `from resnet_lib.plots.landscape import x`
to `resnet_lib.plots.landscape`, `from resnet_lib import __version__` to the package `resnet_lib`
(its `__init__`); imports of other libraries are left out.

Two graphs must be free of cycles (every mode exits 1 naming each cycle found, on stderr):

* the modules' graph: each module a node (a package's `__init__` is the node named after the package);
* the packages' graph: every module of a subpackage (`resnet_lib.experiments.cli`, ...) counted as
  the subpackage `resnet_lib.experiments`, since importing any module of it runs the package's
  `__init__` first. So `resnet_lib.sweep -> resnet_lib.experiments.depth_sweep -> resnet_lib.sweep`
  is a cycle even where the package's modules import each other in order.

tests/test_architecture.py runs `--check`.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "resnet_lib"


def modules(root: Path = ROOT, package: str = PACKAGE) -> dict[str, Path]:
    """{dotted name: file} of every module of `package` under `root` (a package's `__init__.py` under the
    package's name); folders without an `__init__.py` are no packages and are left out."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        folders = path.relative_to(root).parent.parts
        if "__pycache__" in folders or not all((root.joinpath(*folders[:i + 1]) / "__init__.py").is_file()
                                               for i in range(len(folders))):
            continue
        parts = path.relative_to(root).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _known_prefix(dotted: str, known) -> str | None:
    """The longest prefix of `dotted` (whole components) that is one of the `known` modules."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


def imports(name: str, path: Path, known) -> set[str]:
    """The modules among `known` that the module `name` (its source at `path`) imports, anywhere in it."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    targets = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(_known_prefix(alias.name, known) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the package `level - 1` steps above this module's own
                base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.add(submodule if submodule in known else _known_prefix(base, known))
    return targets - {None, name}


def module_graph(root: Path = ROOT, package: str = PACKAGE) -> dict[str, set[str]]:
    """{module: the modules it imports} for every module of `package`."""
    known = modules(root, package)
    return {name: imports(name, path, known) for name, path in known.items()}


def package_of(module: str, graph, package: str = PACKAGE) -> str:
    """The node of `module` in the packages' graph: its subpackage of `package` if it is in one, else itself."""
    parts = module.split(".")
    top = ".".join(parts[:2])
    return top if len(parts) > 2 or (len(parts) == 2 and any(m.startswith(top + ".") for m in graph)) else module


def package_graph(graph: dict[str, set[str]], package: str = PACKAGE) -> dict[str, set[str]]:
    """`graph` with every module of a subpackage merged into the subpackage (imports within it left out)."""
    merged: dict[str, set[str]] = {}
    for module, targets in graph.items():
        node = package_of(module, graph, package)
        merged.setdefault(node, set()).update(package_of(t, graph, package) for t in targets)
        merged[node].discard(node)
    return merged


def circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected groups of `graph` of more than one node: modules that import one another in a
    circle, directly or not (Tarjan's algorithm)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(set(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle [a, b, ..., a] through each group of `circles(graph)`."""
    return [_cycle_within(group, graph) for group in circles(graph)]


def _cycle_within(group: set[str], graph) -> list[str]:
    """A cycle [a, ..., a] through the first node of a strongly connected `group` (a shortest one, by BFS)."""
    start = min(group)
    previous = {start: None}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph[node] & group):
            if target == start:
                path = [node]  # back from `node` to `start`
                while previous[path[-1]] is not None:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if target not in previous:
                previous[target] = node
                queue.append(target)
    raise AssertionError(f"no cycle through {start} in {sorted(group)}")


def edges(graph: dict[str, set[str]]) -> list[str]:
    """The graph as sorted lines "a -> b"."""
    return [f"{source} -> {target}" for source in sorted(graph) for target in sorted(graph[source])]


def problems(root: Path = ROOT, package: str = PACKAGE) -> list[str]:
    """A cycle through each circle of the modules' graph and of the packages' graph, as "modules: a -> b -> a"
    (followed by every member of the circle where the cycle does not pass them all)."""
    graph = module_graph(root, package)
    found = []
    for kind, nodes in (("modules", graph), ("packages", package_graph(graph, package))):
        for group in circles(nodes):
            cycle = _cycle_within(group, nodes)
            others = "" if len(group) == len(cycle) - 1 else f" (one circle with {', '.join(sorted(group))})"
            found.append(f"{kind}: {' -> '.join(cycle)}{others}")
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--check", action="store_true", help="print no graph, only whether it has a cycle")
    shown.add_argument("--packages", action="store_true", help="print the packages' graph instead of the modules'")
    parser.add_argument("--root", type=Path, default=ROOT, help="the folder that holds the package (default: the repository)")
    parser.add_argument("--package", default=PACKAGE, help=f"the package (default: {PACKAGE})")
    args = parser.parse_args(argv)

    graph = module_graph(args.root, args.package)
    if not graph:
        print(f"no package {args.package!r} under {str(args.root)!r}", file=sys.stderr)
        return 1
    if not args.check:
        print("\n".join(edges(package_graph(graph, args.package) if args.packages else graph)))
    found = problems(args.root, args.package)
    for problem in found:
        print(f"import cycle in {args.package}, {problem}", file=sys.stderr)
    if args.check and not found:
        print(f"{args.package}: {len(graph)} modules, {sum(map(len, graph.values()))} imports between them, "
              "no cycle among the modules nor the packages")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
