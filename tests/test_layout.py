"""The house rules, checked: small modules, dependencies one way, no cycles, and a README
whose Layout section names every module there is."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("moderator", "workers")
MAX_LINES = 400
# Never imported by the HTTP service: the model stack, and the workers package.
NOT_FOR_THE_SERVICE = ("torch", "detoxify", "transformers", "onnx", "onnxruntime", "workers")


def _modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), path


MODULES = dict(_modules())


def _imports(name: str, path: Path) -> set[str]:
    """The modules `name` imports at module level or inside functions (absolute names)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _internal_imports(name: str) -> set[str]:
    return {imported for imported in _imports(name, MODULES[name]) if imported in MODULES} - {name}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_over_the_size_limit(name: str) -> None:
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it along a seam"


def test_moderator_never_imports_workers_or_the_model_stack() -> None:
    for name, path in MODULES.items():
        if name.split(".")[0] != "moderator":
            continue
        for imported in _imports(name, path):
            assert imported.split(".")[0] not in NOT_FOR_THE_SERVICE, (name, imported)


def test_storage_never_imports_the_http_service() -> None:
    for name, path in MODULES.items():
        if name.startswith("moderator.storage"):
            for imported in _imports(name, path):
                assert not imported.startswith(("moderator.web", "aiohttp")), (name, imported)


def test_there_is_no_import_cycle() -> None:
    graph = {name: _internal_imports(name) for name in MODULES}
    # A package's __init__ re-exporting its modules is no cycle of ideas.
    graph = {
        name: {dep for dep in deps if not dep.startswith(name + ".")}
        for name, deps in graph.items()
    }
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            cycle = [*visiting[visiting.index(name) :], name]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        visiting.append(name)
        for dep in sorted(graph[name]):
            visit(dep)
        visiting.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)


def _readme_layout() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Layout\n(.*?)(?=^## )", text, re.S | re.M)
    assert match, "README.md has no Layout section"
    return match.group(1)


def test_readme_layout_lists_every_module_and_no_other() -> None:
    layout = _readme_layout()
    listed = set(re.findall(r"`((?:moderator|workers)/[\w/]+\.py)`", layout))
    present = {
        str(path.relative_to(ROOT))
        for path in MODULES.values()
        if path.name not in ("__init__.py", "__main__.py")
    }
    assert sorted(present - listed) == [], "modules missing from README's Layout"
    assert sorted(listed - present) == [], "README's Layout lists modules that do not exist"
