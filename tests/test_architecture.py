"""The package's shape: no import cycle among ganzoo's modules, counting imports inside functions too."""

from __future__ import annotations

import ast
from pathlib import Path

import ganzoo

PACKAGE = Path(ganzoo.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """The ganzoo modules a file imports anywhere in it (a package import counts as its __init__)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ganzoo"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("ganzoo"))
    return found


def test_no_module_imports_itself_back_through_others():
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {name: {m for m in imports(path) if m in files and m != name} for name, path in files.items()}
    # A package's __init__ re-exports its submodules; ganzoo/__init__ reaches train and load lazily by design.
    graph = {name: {m for m in deps if not m.startswith(name + ".")} for name, deps in graph.items()}
    graph["ganzoo"] = set()

    def cycle_from(start: str, node: str, seen: tuple[str, ...]) -> tuple[str, ...] | None:
        for nxt in graph[node]:
            if nxt == start:
                return (*seen, nxt)
            if nxt not in seen:
                found = cycle_from(start, nxt, (*seen, nxt))
                if found:
                    return found
        return None

    cycles = [c for name in graph if (c := cycle_from(name, name, (name,)))]
    assert not cycles, " -> ".join(cycles[0])
