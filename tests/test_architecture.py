"""The import contract of docs/ARCHITECTURE.md, checked over the source's ``import`` statements.

edge (bot) → core (healthbot) ← actions; Rasa's components and plugins (nlu) → core; training
→ actions and core. The core imports nothing heavy and none of the processes' packages; the
processes never import each other; no action imports another action; no import cycles.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("healthbot", "actions", "bot", "nlu", "training")
HEAVY = (
    "torch",
    "torchvision",
    "transformers",
    "faiss",
    "sentence_transformers",
    "spacy",
    "medspacy",
    "onnxruntime",
    "tensorflow",
)

# package → first-party packages (and third-party roots) it must never import.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "healthbot": (
        "actions",
        "bot",
        "nlu",
        "training",
        "rasa",
        "rasa_sdk",
        "telegram",
        "fastapi",
        "starlette",
        *HEAVY,
    ),
    "bot": ("actions", "nlu", "training", *HEAVY),
    "actions": ("bot", "nlu", "training"),
    "nlu": ("actions", "bot", "training"),
    "training": ("bot", "nlu"),
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # the imported module, dotted (absolute)
    line: int
    top_level: bool  # at module level, outside `if TYPE_CHECKING:` (runs at import time)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(node: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            parts = module.split(".")
            keep = len(parts) - node.level + (1 if is_package else 0)
            base = ".".join([*parts[:keep], *([base] if base else [])])
        yield base
        # `from package import module` imports the submodule too.
        yield from (f"{base}.{alias.name}" for alias in node.names)


def imports_of(path: Path, root: Path) -> Iterator[Import]:
    """Every import statement of a file, with whether it runs when the module is imported."""
    module = module_name(path, root)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"

    def walk(node: ast.AST, top: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                for target in _targets(child, module, is_package):
                    yield Import(module, target, child.lineno, top)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) or (
                isinstance(child, ast.If) and _is_type_checking(child)
            ):
                yield from walk(child, False)
            else:
                yield from walk(child, top)

    yield from walk(tree, True)


def source_files(root: Path) -> Iterator[Path]:
    for package in PACKAGES:
        if (root / package).is_dir():
            yield from sorted((root / package).rglob("*.py"))


def _root(name: str) -> str:
    return name.split(".", 1)[0]


def forbidden_imports(root: Path) -> list[str]:
    """``path:line: a imports b`` for every import the contract forbids (lazy ones included)."""
    found: dict[tuple[Path, int], str] = {}
    for path in source_files(root):
        for imp in imports_of(path, root):
            banned = FORBIDDEN.get(_root(imp.module), ())
            if _root(imp.target) in banned:
                where = path.relative_to(root)
                found.setdefault(
                    (where, imp.line), f"{where}:{imp.line}: {imp.module} imports {imp.target}"
                )
    return sorted(found.values())


def _is_action(module: str) -> bool:
    return module.startswith("actions.action_")


def action_to_action_imports(root: Path) -> list[str]:
    """Actions get services from actions.services, never from another action module."""
    found: dict[tuple[Path, int], str] = {}
    for path in source_files(root):
        for imp in imports_of(path, root):
            target = ".".join(imp.target.split(".")[:2])
            if _is_action(imp.module) and _is_action(target) and target != imp.module:
                where = path.relative_to(root)
                found.setdefault((where, imp.line), f"{where}:{imp.line}: {imp.module} → {target}")
    return sorted(found.values())


def import_cycles(root: Path) -> list[list[str]]:
    """Cycles among first-party modules through imports that run at import time."""
    modules = {module_name(p, root) for p in source_files(root)}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for path in source_files(root):
        for imp in imports_of(path, root):
            # A module's own parent packages are already being imported when it runs.
            ancestor = imp.module.startswith(imp.target + ".")
            if (
                imp.top_level
                and imp.target in modules
                and imp.target != imp.module
                and not ancestor
            ):
                graph[imp.module].add(imp.target)
    return [sorted(c) for c in _strongly_connected(graph) if len(c) > 1]


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (deep import chains would overflow recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    result.append(component)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return result


# --- the contract, on this repository -------------------------------------------------------


def test_no_package_imports_what_the_contract_forbids() -> None:
    assert forbidden_imports(ROOT) == []


def test_no_action_imports_another_action() -> None:
    assert action_to_action_imports(ROOT) == []


def test_no_import_cycles() -> None:
    assert import_cycles(ROOT) == []


def test_the_core_imports_with_nothing_heavy_loaded() -> None:
    import subprocess
    import sys

    code = (
        "import sys, importlib, pkgutil, healthbot\n"
        "for m in pkgutil.walk_packages(healthbot.__path__, 'healthbot.'):\n"
        "    importlib.import_module(m.name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {(*HEAVY, 'actions', 'bot')}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_architecture_doc_names_every_package() -> None:
    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for package in PACKAGES:
        assert f"`{package}/`" in doc, package


# --- the checker itself catches what it should -----------------------------------------------


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"bot/web.py": "from actions.services import get_services\n"},
            "bot/web.py:1: bot.web imports actions.services",
        ),
        (
            {"actions/a.py": "def f():\n    import bot.edge\n"},
            "actions/a.py:2: actions.a imports bot.edge",
        ),
        ({"healthbot/x.py": "import torch\n"}, "healthbot/x.py:1: healthbot.x imports torch"),
        (
            {"nlu/c.py": "from actions.safety import red_flags\n"},
            "nlu/c.py:1: nlu.c imports actions.safety",
        ),
        (
            {"healthbot/stores/y.py": "from ...bot import edge\n"},
            "healthbot/stores/y.py:1: healthbot.stores.y imports bot",
        ),
    ],
)
def test_a_forbidden_import_is_reported(tmp_path: Path, files: dict, expected: str) -> None:
    root = _tree(tmp_path, {"healthbot/__init__.py": "", **files})
    assert expected in forbidden_imports(root)


def test_type_checking_imports_still_count_as_forbidden(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "bot/a.py": """
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from actions.services import Services
        """
        },
    )
    assert forbidden_imports(root) == ["bot/a.py:4: bot.a imports actions.services"]


def test_an_action_importing_an_action_is_reported(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "actions/action_a.py": "from actions.action_b import X\n",
            "actions/action_b.py": "X = 1\n",
            "actions/services.py": "",
        },
    )
    assert action_to_action_imports(root) == [
        "actions/action_a.py:1: actions.action_a → actions.action_b"
    ]


def test_a_cycle_is_reported_and_a_lazy_import_breaks_it(tmp_path: Path) -> None:
    cyclic = _tree(
        tmp_path / "cyclic",
        {"actions/a.py": "import actions.b\n", "actions/b.py": "from actions import a\n"},
    )
    assert import_cycles(cyclic) == [["actions.a", "actions.b"]]
    lazy = _tree(
        tmp_path / "lazy",
        {
            "actions/a.py": "import actions.b\n",
            "actions/b.py": "def f():\n    from actions import a\n",
        },
    )
    assert import_cycles(lazy) == []
