"""The package's shape: no import cycle among ganzoo's modules, counting imports inside functions too, and no
module importing from a layer above its own in docs/ARCHITECTURE.md's picture."""

from __future__ import annotations

import ast
import re
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


# The layers of docs/ARCHITECTURE.md's picture, from the bottom of the stack (imports nothing of ganzoo's) up to the
# entry points; change both together. A module may import modules of its own layer or a layer listed before it.
LAYERS = [
    ("shapes", "errors", "instantiation", "draws", "console", "batch", "runtime"),
    ("data",),
    ("models",),
    ("constraints",),
    ("objectives",),
    ("checkpoint",),
    ("callbacks", "metrics", "plots", "loggers", "storage", "checkpoint_io"),
    ("assemble", "memory", "config", "cli", "schema", "placement", "sweep_job", "train", "sample", "evaluate",
     "sampling", "evaluation"),
]
LAYER = {name: depth for depth, names in enumerate(LAYERS) for name in names}


def top(module: str) -> str:
    """ganzoo.objectives.build -> objectives: the picture places modules and packages of the top level."""
    return module.split(".")[1]


def test_every_module_has_its_place_in_the_picture():
    unplaced = sorted({top(module_name(p)) for p in PACKAGE.rglob("*.py") if module_name(p) != "ganzoo"} - set(LAYER))
    assert not unplaced, f"add {unplaced} to the picture in docs/ARCHITECTURE.md and to LAYERS here"


def test_nothing_imports_upwards():
    # ganzoo/__init__ is the public front (compose, train, load): it stands above every layer.
    upward = [f"{module_name(path)} imports {imported}"
              for path in PACKAGE.rglob("*.py") if module_name(path) != "ganzoo"
              for imported in sorted(imports(path)) if imported != "ganzoo"
              if LAYER[top(imported)] > LAYER[top(module_name(path))]]
    assert not upward, "; ".join(upward)


def test_the_picture_draws_the_layers_in_this_order():
    text = (PACKAGE.parent.parent / "docs" / "ARCHITECTURE.md").read_text()
    picture = text[text.index("```") + 3:text.index("```", text.index("```") + 3)]
    where = {}
    for name in LAYER:
        found = re.search(rf"(?<![\w.]){name}(\.py|/)", picture)
        assert found, f"{name} is missing from the picture in docs/ARCHITECTURE.md"
        where[name] = found.start()
    # each layer starts in the picture after every module of the layers before it
    for depth in range(1, len(LAYERS)):
        below = max(where[n] for names in LAYERS[:depth] for n in names)
        assert min(where[n] for n in LAYERS[depth]) > below, f"{LAYERS[depth]} are drawn among an earlier layer"
