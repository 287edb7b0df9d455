"""The package's shape: wings named for what they own, data flowing one way
(cli -> use-cases -> wings -> config/errors), no module importing back up, no import cycle.
Read from the source (every `import`, at the top or inside a function), not by importing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sorter"

#: Each wing and what it may import besides itself. Lower layers never name higher ones.
MAY_IMPORT: dict[str, set[str]] = {
    "base": set(),  # sorter/__init__, config, errors, signals, wording
    "files": {"base"},
    "media": {"base"},
    "model": {"media", "base"},
    "training": {"model", "media", "base"},
    "learning": {"training", "model", "media", "files", "base"},
    "review": {"learning", "training", "model", "media", "files", "base"},
    "sorting": {"review", "model", "media", "files", "base"},
    "watching": {"sorting", "model", "media", "files", "base"},
    "cli": {"watching", "sorting", "review", "learning", "training", "model", "media", "files", "base"},
}
#: What each module may never import, even lazily: `--help` and `undo` stay light.
NEVER = {"cli": {"tensorflow", "keras"}, "files": {"cv2", "tensorflow", "keras"}}


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(name: str, path: Path) -> set[str]:
    """Every module `name` imports, resolved to sorter's own modules where it names them."""
    known = modules()
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name if path.name == "__init__.py" else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}".rstrip(".")
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known)
    return found


def wing(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "sorter":
        return None
    if len(parts) == 1 or parts[1] in ("config", "errors", "signals", "wording", "__main__"):
        return "base" if parts[1:] != ["__main__"] else "cli"
    return parts[1] if parts[1] in MAY_IMPORT else "?"


def test_every_module_belongs_to_a_wing() -> None:
    assert {m: wing(m) for m in modules() if wing(m) == "?"} == {}


def test_each_wing_says_what_it_owns_and_may_import() -> None:
    for name in MAY_IMPORT:
        if name == "base":
            continue
        doc = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text(encoding="utf-8"))) or ""
        assert doc.startswith(f"{name}: ") and "May import" in doc, name


def test_no_module_imports_back_up() -> None:
    wrong = []
    for module, path in sorted(modules().items()):
        mine = wing(module)
        for imported in imports_of(module, path):
            theirs = wing(imported)
            if theirs is not None and theirs != mine and theirs not in MAY_IMPORT[mine]:
                wrong.append(f"{module} ({mine}) imports {imported} ({theirs})")
            top = imported.split(".")[0]
            if top in NEVER.get(mine, ()):
                wrong.append(f"{module} ({mine}) imports {top}")
    assert wrong == []


def test_no_import_cycle() -> None:
    known = modules()
    graph = {m: {i for i in imports_of(m, p) if i in known and i != m and not m.startswith(i + ".")}
             for m, p in known.items()}
    # A package's __init__ naming its own submodules (cli registering its commands) is not a cycle.
    for m in graph:
        graph[m] = {i for i in graph[m] if not (i.startswith(m + "."))} | (
            {i for i in graph[m] if i.startswith(m + ".")} if m == "sorter.cli" else set())
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt):], nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert cycles == []


@pytest.mark.parametrize("path", sorted([*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.js")]),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_readable(path: Path) -> None:
    """No module over 500 lines, the review page's scripts included: past that, it holds more
    than one concern."""
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 500


BENCHMARKS = PACKAGE.parent / "benchmarks"


@pytest.mark.parametrize("path", sorted(BENCHMARKS.glob("*.py")), ids=lambda p: f"benchmarks/{p.name}")
def test_benchmarks_stay_readable(path: Path) -> None:
    """The benchmarks too: sort_speed.py grew to 694 lines by being the sort-speed benchmark and
    the library of 16 others (the machine, running sorter, the photos they make) at once."""
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 500
