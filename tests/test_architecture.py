"""The architecture, checked: which layer may import which, no import cycles, small modules and functions.

The picture (docs/architecture.md draws it); a layer imports only the layers listed for it, never one above:

    cli, __main__, __init__       entry: reads settings, builds the server, runs it
    mcp                           build_server, one module per tool, MCP Tasks, prompts, HTTP app, accounts
    settings                      configuration (IMINI_*), validated once
    app                           use cases (VideoService), results, delivery, background jobs, recovery
    store         files           task store contract + SQLite  |  local images, verified downloads
    imini                         imini's HTTP client, wire models, errors, retry, the shared poll loop
    request                       pure: catalogue, request schema, per-model rules, validation, pricing
    simulator                     the simulated imini, on its own: imports nothing else of imini_mcp

Every import counts, wherever it is written (module top, inside a function, under TYPE_CHECKING). Another
layer is reached only through its package (`imini_mcp.store`), never a module inside it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "imini_mcp"

# layer -> the other layers it may import
LAYERS: dict[str, frozenset[str]] = {
    "request": frozenset(),
    "imini": frozenset(),
    "store": frozenset({"imini"}),
    "files": frozenset({"request", "imini"}),
    "app": frozenset({"request", "imini", "store", "files"}),
    "settings": frozenset({"request"}),
    "mcp": frozenset({"request", "imini", "store", "files", "app", "settings", "simulator"}),
    "entry": frozenset({"request", "imini", "store", "files", "app", "settings", "mcp", "simulator"}),
    "simulator": frozenset(),
}
ENTRY_MODULES = frozenset({"imini_mcp", "imini_mcp.__main__", "imini_mcp.cli"})
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


MODULES = _modules()


def layer_of(module: str) -> str:
    if module in ENTRY_MODULES:
        return "entry"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "entry"


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(module: str) -> set[str]:
    """The imini_mcp modules `module` imports (a `from pkg import name` of a submodule counts as that)."""
    path = MODULES[module]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, path, node)
            found.add(target)
            found |= {f"{target}.{alias.name}" for alias in node.names if f"{target}.{alias.name}" in MODULES}
    return {name for name in found if name in MODULES and name != module}


GRAPH = {module: imports_of(module) for module in MODULES}


def test_each_layer_imports_only_the_layers_below_it() -> None:
    wrong = sorted(
        f"{module} ({layer_of(module)}) imports {target} ({layer_of(target)})"
        for module, targets in GRAPH.items()
        for target in targets
        if layer_of(target) != layer_of(module) and layer_of(target) not in LAYERS[layer_of(module)]
    )
    assert wrong == []


def test_other_layers_are_reached_through_their_package() -> None:
    """`from imini_mcp.store import TaskStore`, never `imini_mcp.store.sqlite`: a layer's inside can change
    freely behind its package's names. (The entry may pick a module to keep an import lazy: uvicorn.)"""
    inside = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if layer_of(target) not in (layer_of(module), "entry")
        and layer_of(module) != "entry"
        and target != f"imini_mcp.{layer_of(target)}"
    )
    assert inside == []


def test_mcp_reaches_the_store_only_to_open_it() -> None:
    """MCP Tasks and tools go through the app's use cases; only the lifespan (which opens it) sees the store."""
    assert sorted(
        m for m, targets in GRAPH.items() if layer_of(m) == "mcp" and "imini_mcp.store" in targets
    ) == ["imini_mcp.mcp.lifespan"]


def test_the_simulator_imports_nothing_else_of_the_package() -> None:
    outside = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if layer_of(module) == "simulator"
        for target in targets
        if layer_of(target) != "simulator"
    )
    assert outside == []


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in GRAPH:
        if module not in index:
            visit(module)
    return found


def test_there_are_no_import_cycles() -> None:
    assert _cycles() == []


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _function_lengths() -> list[tuple[int, str]]:
    lengths = []
    for module, path in MODULES.items():
        for fn in _functions(ast.parse(path.read_text(encoding="utf-8"))):
            assert fn.end_lineno is not None
            lengths.append((fn.end_lineno - fn.lineno + 1, f"{module}.{fn.name}"))
    return sorted(lengths, reverse=True)


def _module_lengths() -> list[tuple[int, str]]:
    return sorted(
        ((len(path.read_text(encoding="utf-8").splitlines()), module) for module, path in MODULES.items()),
        reverse=True,
    )


def test_modules_are_small(capsys: pytest.CaptureFixture[str]) -> None:
    lengths = _module_lengths()
    with capsys.disabled():
        print(f"\nlargest modules: {', '.join(f'{name} {n}' for n, name in lengths[:3])}")
    assert [entry for entry in lengths if entry[0] > MAX_MODULE_LINES] == []


def test_functions_are_small(capsys: pytest.CaptureFixture[str]) -> None:
    lengths = _function_lengths()
    with capsys.disabled():
        print(f"\nlongest functions: {', '.join(f'{name} {n}' for n, name in lengths[:3])}")
    assert [entry for entry in lengths if entry[0] > MAX_FUNCTION_LINES] == []


def test_the_rules_see_every_module() -> None:
    """A guard for the checks themselves: each layer is populated and the graph has arrows."""
    layers = {layer_of(module) for module in MODULES}
    assert layers == set(LAYERS)
    assert sum(len(targets) for targets in GRAPH.values()) > 50
