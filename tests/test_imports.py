"""Imports in lr_course go one way: parse every module, build the import graph, fail on a cycle.

Function-level imports count too: a lazy import delays a cycle, it does not remove it.
"""

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "lr_course"

# Edges a cycle may use while someone removes it (none today; keep it that way).
KNOWN_EDGES: set = set()


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict:
    """Every module of the package: dotted name -> path."""
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: pathlib.Path, known: dict) -> set:
    """The modules of lr_course that ``name`` imports, anywhere in its body."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            # "from package import module" imports that module; "from module import name"
            # (or a name defined in a package's __init__) imports the module itself
            submodules = {f"{source}.{alias.name}" for alias in node.names} & set(known)
            found.update(submodules)
            if len(submodules) < len(node.names):
                found.add(source)
    return {m for m in found if m in known and m != name}


def import_graph() -> dict:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(graph: dict) -> list:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_graph_sees_function_level_and_relative_imports():
    graph = import_graph()
    assert "lr_course._checks" in graph["lr_course.optimizers"]  # from . import _checks
    assert "lr_course.training" in graph["lr_course.finder"]
    assert "lr_course.schedules.decay" in graph["lr_course.schedules.warmup"]
    assert "lr_course.widgets._view" in graph["lr_course.widgets.race"]
    assert len(graph) > 40


def test_cycles_finds_a_planted_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_imports_go_one_way():
    graph = import_graph()
    for source, target in KNOWN_EDGES:
        graph.get(source, set()).discard(target)
    assert cycles(graph) == []


def test_every_known_edge_still_exists():
    """An exclusion whose edge is gone must be deleted, not kept as a hole in the test."""
    graph = import_graph()
    gone = [edge for edge in KNOWN_EDGES if edge[1] not in graph.get(edge[0], set())]
    assert gone == []
