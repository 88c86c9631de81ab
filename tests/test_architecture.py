"""The package's layering, read from its source: no module-level import cycle, and an engine
that names no task."""
import ast
from pathlib import Path

import networkx as nx

import evosim

PACKAGE = Path(evosim.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_level_imports() -> nx.DiGraph:
    """module -> evosim module it imports at module level (imports inside functions are lazy:
    they do not run when the module loads)."""
    graph = nx.DiGraph()
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    for name, path in modules.items():
        graph.add_node(name)
        for node in ast.parse(path.read_text()).body:
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for target in targets:
                if target in modules and target != name:
                    graph.add_edge(name, target)
    return graph


def test_no_module_level_import_cycle():
    graph = _module_level_imports()
    cycles = [c for c in nx.simple_cycles(graph) if not _package_and_its_own(c)]
    assert not cycles, cycles[:3]


def _package_and_its_own(cycle) -> bool:
    """A package's __init__ and its own submodules (``from package import submodule``): the
    one kind of cycle Python resolves by design."""
    return any(all(m == p or m.startswith(p + ".") for m in cycle) for p in cycle)


def test_the_cycle_check_finds_a_cycle():
    graph = _module_level_imports()
    graph.add_edge("evosim.measures", "evosim.runner")  # runner imports measures
    assert any(not _package_and_its_own(c) for c in nx.simple_cycles(graph))


def test_the_engine_names_no_task():
    for path in (PACKAGE / "engine").glob("*.py"):
        if path.name == "deap_engine.py":  # DEAP's operators act on circuit genomes: it says so
            continue
        text = path.read_text()
        for word in ("logic-gates", "retina", "digit-pairs", "digit_pairs", "tasks.logic",
                     "tasks.retina", "circuit"):
            assert word not in text.lower(), (path.name, word)
