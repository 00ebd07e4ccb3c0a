"""The package's architecture as a test: imports run one way, with no cycle, and only the
TFX shell imports TFX (or TensorFlow, TFMA, Beam) at module level.

It reads the source with `ast`, so it sees function-level imports too (a back-arrow
hidden inside a function is still a back-arrow) and imports nothing.
"""

from __future__ import annotations

import ast
import os
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "mct_component"
# Each subpackage or top-level module, and its layer: a module may import its own
# subpackage and any lower layer, never a higher one.
LAYERS = {
    "errors": 0,
    "constants": 0,
    "files": 0,
    "text": 0,
    "terminal": 0,
    "card": 1,
    "content": 2,
    "readers": 2,
    "mlmd": 3,
    "render": 3,
    "assembly": 4,
    "governance": 5,
    "exports": 5,
    "dashboard": 6,
    "generator": 7,
    "serve": 7,
    "api": 8,
    "cli": 9,
    "": 9,  # mct_component/__init__.py: the public API
}
HEAVY = (
    "tfx",
    "tensorflow",
    "tensorflow_model_analysis",
    "tensorflow_data_validation",
    "apache_beam",
    "tfx_bsl",
)


def _modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = ast.parse(path.read_text(encoding="utf-8"))
    return found


MODULES = _modules()


def _resolve(name: str) -> str:
    """`mct_component.a.b` as the module that name is: a module, or the package it is in."""
    name = name.removeprefix("mct_component").lstrip(".")
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _imports(tree: ast.Module) -> list[tuple[str, int, bool]]:
    """(module imported, line, at module level) for every mct_component import."""
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module == "mct_component":
                names = [f"mct_component.{a.name}" for a in node.names]
            elif node.module.startswith("mct_component."):
                names = [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.startswith("mct_component")]
        found += [(_resolve(n), node.lineno, id(node) in top) for n in names]
    return found


def _layer(module: str) -> tuple[str, int]:
    group = module.partition(".")[0]
    return group, LAYERS[group]


def test_every_module_is_in_a_layer():
    assert {_layer(m)[0] for m in MODULES} <= set(LAYERS)


def test_no_import_runs_up_a_layer():
    back_arrows = []
    for module, tree in MODULES.items():
        group, layer = _layer(module)
        for imported, line, _ in _imports(tree):
            other, other_layer = _layer(imported)
            if other != group and other_layer > layer:
                back_arrows.append(f"{module}:{line} imports {imported}")
    assert not back_arrows


def test_no_import_cycle():
    """Not even through a package's `__init__`: a submodule never imports the package
    that imports it."""
    graph = {m: {i for i, _, _ in _imports(t) if i != m} for m, t in MODULES.items()}
    cycles = []
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for other in sorted(graph.get(module, ())):
            if state.get(other) == 1:
                cycles.append(" -> ".join([*path[path.index(other) :], other]))
            elif other not in state:
                visit(other, [*path, other])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _layer(m)[0] != "generator"))
def test_only_the_shell_imports_tfx_at_module_level(module):
    heavy = []
    for node in MODULES[module].body:
        if isinstance(node, ast.Import):
            heavy += [a.name for a in node.names if a.name.split(".")[0] in HEAVY]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in HEAVY:
            heavy.append(node.module)
    assert not heavy, f"{module} imports {heavy} when it is imported"


def test_the_layers_are_the_documented_ones():
    with open(os.path.join(PACKAGE, "__init__.py"), encoding="utf-8") as f:
        docstring = ast.get_docstring(ast.parse(f.read())) or ""
    for group in LAYERS:
        if group and group not in ("api", "cli"):
            assert f"`{group}`" in docstring, group
