"""The verifier is an independent implementation: no log-side code, few dependencies.

Two implementations of one spec only catch each other's bugs (or lies) if neither
borrows from the other, so ``verifier/`` may import the standard library,
``cryptography``, the CLI's HTTP client and output libraries (``httpx``, ``click``,
``rich``) and itself, nothing else.

The verifier's tests do not borrow log-side code either, with one exception: the
CLI tests that need a real log server (:data:`LIVE_SERVER_TESTS`) build one with
``ledger`` and serve it with ``api``. They use it only as the thing under test; what
they expect comes from the verifier's own checks and from fixed facts (sizes,
exit codes), never from the ledger's code.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VERIFIER = REPO / "verifier"
LOG_SIDE = {"ledger", "api"}
FORBIDDEN = LOG_SIDE | {"rfc8785", "sqlalchemy", "sqlmodel", "fastapi"}
ALLOWED_THIRD_PARTY = {"cryptography", "httpx", "click", "rich"}
LIVE_SERVER_TESTS = {
    "live_log.py",
    "test_cli_live.py",
    "test_cli_fork.py",
    "test_plan_live.py",
    "test_statement_live.py",
    "test_cli_receipt.py",
    "test_cli_member.py",
}


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level module) for every absolute import in ``path``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name.split(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def _dynamic_imports(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            f = node.func
            name = (
                f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            )
            if name in {"__import__", "import_module"}:
                lines.append(node.lineno)
    return lines


def _py_files(root: Path) -> list[Path]:
    files = sorted(root.rglob("*.py"))
    assert files, f"no Python files under {root}"
    return files


def test_verifier_imports_only_stdlib_its_libraries_and_itself() -> None:
    allowed = set(sys.stdlib_module_names) | ALLOWED_THIRD_PARTY | {"verifier", "__future__"}
    problems = [
        f"{path.relative_to(REPO)}:{line} imports {module}"
        for path in _py_files(VERIFIER)
        for line, module in _imports(path)
        if module in FORBIDDEN or module not in allowed
    ]
    assert problems == []


def test_verifier_has_no_dynamic_imports() -> None:
    problems = [
        f"{path.relative_to(REPO)}:{line}"
        for path in _py_files(VERIFIER)
        for line in _dynamic_imports(path)
    ]
    assert problems == []


def test_verifier_tests_do_not_borrow_from_the_log_side() -> None:
    problems = [
        f"{path.relative_to(REPO)}:{line} imports {module}"
        for path in _py_files(Path(__file__).parent)
        if path.name not in LIVE_SERVER_TESTS
        for line, module in _imports(path)
        if module in LOG_SIDE
    ]
    assert problems == []


def test_live_server_tests_exist() -> None:
    """The exemption above names real files (a rename must not widen it silently)."""
    here = Path(__file__).parent
    assert all((here / name).is_file() for name in LIVE_SERVER_TESTS)


def test_import_linter_contract(tmp_path: Path) -> None:
    """The same rule through import-linter, with a config naming only ``verifier``.

    Listing only ``verifier`` as a root package keeps this test independent of the
    state of ``ledger/`` and ``api/``, which import-linter treats as external here.
    """
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("import-linter is not installed")
    forbidden = ", ".join(f'"{m}"' for m in sorted(FORBIDDEN))
    config = tmp_path / "importlinter.toml"
    config.write_text(
        "[tool.importlinter]\n"
        'root_packages = ["verifier"]\n'
        "include_external_packages = true\n\n"
        "[[tool.importlinter.contracts]]\n"
        'name = "verifier is independent"\n'
        'type = "forbidden"\n'
        'source_modules = ["verifier"]\n'
        f"forbidden_modules = [{forbidden}]\n"
    )
    result = subprocess.run(
        [exe, str(config), "--no-cache", "--no-logo"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout
