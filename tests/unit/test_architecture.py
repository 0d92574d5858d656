"""The shape of the code, checked from its text: no import circles between the app's modules, no module over 400
lines (the demo town's data excepted), no import hidden inside a function without a comment saying why, and the
domain packages free of Reflex."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("pwa_app", "components", "state")
MAX_LINES = 400
LONG_ALLOWED = {"pwa_app/seed.py"}  # the demo municipality's data
DOMAIN = ("appointments", "catalogue", "common", "feedback", "models", "notifications", "service_requests", "staff")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _imported(name: str, node: ast.Import | ast.ImportFrom, path: Path) -> list[str]:
    """The app modules an import statement loads (the longest known module of each dotted name)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
            base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
        names = [f"{base}.{alias.name}" for alias in node.names]
    out = []
    for dotted in names:
        while dotted and dotted not in MODULES:
            dotted = dotted.rpartition(".")[0]
        if dotted and dotted != name:
            out.append(dotted)
    return out


def _graph() -> dict[str, set[str]]:
    return {name: {target for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, (ast.Import, ast.ImportFrom))
                   for target in _imported(name, node, path)}
            for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
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


def test_the_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles():
    assert _cycles(_graph()) == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_over_400_lines(name):
    path = MODULES[name]
    if str(path.relative_to(ROOT)) not in LONG_ALLOWED:
        assert len(path.read_text().splitlines()) <= MAX_LINES, f"{path.relative_to(ROOT)}: split it"


def _hidden_imports(path: Path) -> list[str]:
    """Imports inside functions without a comment on their line or the line above saying why."""
    lines = path.read_text().splitlines()
    hidden = []
    for fn in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    said = "#" in lines[node.lineno - 1] or lines[node.lineno - 2].strip().startswith("#")
                    if not said:
                        hidden.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return hidden


def test_hidden_imports_are_found():
    sample = ROOT / "tests" / "unit" / "test_architecture.py"
    assert _hidden_imports(sample) == []  # this file imports at the top only


def test_imports_inside_functions_say_why():
    assert [where for path in MODULES.values() for where in _hidden_imports(path)] == []


def test_the_domain_imports_no_reflex_and_no_ui():
    for name, targets in _graph().items():
        if name.split(".")[:2][-1] in DOMAIN and name.startswith("pwa_app."):
            assert not {t for t in targets if t.startswith(("components", "state", "pwa_app.pages", "pwa_app.api"))}, name
            source = MODULES[name].read_text()
            assert "import reflex" not in source and "from reflex" not in source, name
