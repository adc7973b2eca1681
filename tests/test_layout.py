"""The tree's layering: each layer in its folder, no import loop, small files, a fast help."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The repository's folders and the packages they are (pyproject.toml's package-dir).
PACKAGES = {
    "kubeslim": "kubeslim",
    "beam": "kubeslim.beam",
    "components": "kubeslim.components",
    "pipelines": "kubeslim.pipelines",
}


def _modules() -> dict[str, Path]:
    modules = {}
    for folder, package in PACKAGES.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join([package, *parts])] = path
    return modules


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at its top or inside a function (not for type checks)."""
    tree = ast.parse(path.read_text())
    skipped = {
        id(node)
        for top in ast.walk(tree)
        if isinstance(top, ast.If) and "TYPE_CHECKING" in ast.unparse(top.test)
        for node in ast.walk(top)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


MODULES = _modules()
GRAPH = {
    name: {m for m in _imports(path) if m in MODULES and m != name}
    for name, path in MODULES.items()
}


def test_the_package_has_no_import_loop():
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for target in sorted(GRAPH[name]):
            if state.get(target) == "open":
                loop = trail[trail.index(target) :] + [target]
                pytest.fail("import loop: " + " -> ".join(loop))
            if target not in state:
                visit(target, [*trail, target])
        state[name] = "done"

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [name])


def _importers_of(prefix: str) -> set[str]:
    return {
        name
        for name, path in MODULES.items()
        if any(m == prefix or m.startswith(prefix + ".") for m in _imports(path))
    }


def test_kfp_is_imported_only_by_the_pipelines_layer():
    assert {m for m in _importers_of("kfp") if not m.startswith("kubeslim.pipelines.")} == set()


def test_only_the_cli_and_python_dash_m_import_the_cli():
    importers = {m for m in _importers_of("kubeslim.cli") if not m.startswith("kubeslim.cli")}
    assert importers == {"kubeslim.__main__"}


def test_beam_and_components_import_neither_the_pipelines_nor_the_cli():
    for layer in ("kubeslim.beam", "kubeslim.components"):
        for name in (m for m in MODULES if m.startswith(layer)):
            outside = {
                m for m in GRAPH[name] if m.startswith(("kubeslim.pipelines", "kubeslim.cli"))
            }
            assert not outside, f"{name} imports {outside}"


def test_no_source_file_is_over_400_lines():
    files = [
        p for folder in (*PACKAGES, "tests", "benchmarks") for p in (ROOT / folder).rglob("*.py")
    ]
    long = {
        str(p.relative_to(ROOT)): n for p in files if (n := len(p.read_text().splitlines())) > 400
    }
    assert long == {}


def test_help_loads_neither_tensorflow_nor_kfp():
    from kubeslim.cli import COMMANDS

    code = (
        "import sys, contextlib, io\n"
        "from kubeslim.cli import main\n"
        "for command in sys.argv[1:]:\n"
        "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "        main([command, '--help'])\n"
        "print(sorted(m for m in ('tensorflow', 'kfp', 'keras') if m in sys.modules))\n"
    )
    names = [c.name for c in COMMANDS]
    done = subprocess.run(
        [sys.executable, "-c", code, *names], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
