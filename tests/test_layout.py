"""The shape of the code (DESIGN.md section 1), checked on the source: no import cycle, no import inside a
function (the usual way to hide one), no module over ~400 lines, reads and writes where they belong."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("frames", "hyperdata", "viewer")
LINE_LIMIT = 400


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def resolve(module: str, path: Path, node: ast.ImportFrom, known: dict) -> list[str]:
    """The project modules a `from ... import ...` loads: each name that is a submodule, else the module."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    if node.level:
        base = package.split(".")
        base = base[: len(base) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    return [f"{target}.{alias.name}" if f"{target}.{alias.name}" in known else target for alias in node.names]


def imports(module: str, path: Path, *, top_level: bool, known: dict) -> set[str]:
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level else [n for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) for n in ast.walk(f)]
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.update(resolve(module, path, node, known))
    return {name for name in names if name.split(".")[0] in PACKAGES}


def graph() -> dict[str, set[str]]:
    found = modules()
    edges = {}
    for module, path in found.items():
        edges[module] = {name for name in imports(module, path, top_level=True, known=found) if name in found and name != module}
    return edges


def test_no_import_cycles():
    edges = graph()
    # A package imports its own submodules to re-export them; that edge is not a cycle.
    for module, targets in edges.items():
        edges[module] = {t for t in targets if not t.startswith(module + ".")}
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                cycle = stack[stack.index(target):] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[node] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module)


def test_no_project_import_inside_a_function():
    found = modules()
    hidden = {module: sorted(imports(module, path, top_level=False, known=found)) for module, path in found.items()}
    assert not {m: names for m, names in hidden.items() if names}


def test_no_module_is_too_long():
    long = {str(path.relative_to(ROOT)): n for path in modules().values() if (n := len(path.read_text().splitlines())) > LINE_LIMIT}
    assert not long, f"split these (over {LINE_LIMIT} lines): {long}"


def test_reads_and_writes_stay_in_their_layers():
    edges = graph()
    for module, targets in edges.items():
        if module.startswith("frames.selectors"):
            assert not any(t.startswith("frames.services") or t == "frames.tasks" for t in targets), (module, targets)
        if module == "frames.tasks":  # thin shells over the services (and the storage layer's errors)
            assert targets <= {"frames.services", "frames.storage"}, targets
