"""The import-linter contracts `make lint` runs hold, and breaking one fails."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
VIEW_NAMES = {"routes.py", "api.py", "desk.py"}
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), str(config), "--no-cache"],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_repository_keeps_its_layers() -> None:
    result = _lint(ROOT, ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_adapter_importing_the_service_breaks_the_lint(tmp_path: Path) -> None:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (adapters_contract,) = [
        c for c in contracts["contracts"] if c["source_modules"] == ["country_adapters"]
    ]
    shutil.copytree(ROOT / "country_adapters", tmp_path / "country_adapters")
    (tmp_path / "certificate").mkdir()
    (tmp_path / "certificate" / "__init__.py").write_text("")
    config = tmp_path / "contracts.toml"
    config.write_text(
        '[tool.importlinter]\nroot_packages = ["certificate", "country_adapters"]\n\n'
        "[[tool.importlinter.contracts]]\n"
        f'name = "{adapters_contract["name"]}"\ntype = "forbidden"\n'
        'source_modules = ["country_adapters"]\nforbidden_modules = ["certificate"]\n'
    )
    assert _lint(tmp_path, config).returncode == 0

    (tmp_path / "country_adapters" / "leak.py").write_text("import certificate\n")
    broken = _lint(tmp_path, config)
    assert broken.returncode != 0
    assert "country_adapters is not allowed to import certificate" in broken.stdout
    assert "country_adapters.leak -> certificate" in broken.stdout


def _view_modules() -> list[Path]:
    """Every feature's view modules: its routes, API and desk, and any module with a blueprint."""
    found = []
    for path in sorted((ROOT / "certificate").glob("*/*.py")):
        named_as_view = path.name in VIEW_NAMES or path.name.endswith("_routes.py")
        if named_as_view or "Blueprint(" in path.read_text():
            found.append(path)
    return found


def _session_calls(source: str, name: str) -> list[str]:
    """``name:line: call`` for every ``….commit()`` or ``….rollback()`` in ``source``."""
    return [
        f"{name}:{node.lineno}: {ast.unparse(node)}"
        for node in ast.walk(ast.parse(source, name))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"commit", "rollback"}
    ]


def test_no_view_commits_or_rolls_back_by_itself() -> None:
    """Views run inside ``certificate.web.transaction.transactional``, which commits once."""
    modules = {str(path.relative_to(ROOT)): path for path in _view_modules()}
    assert {
        "certificate/agency/api.py",
        "certificate/admin/approval_routes.py",
        "certificate/identity/desk.py",
        "certificate/organisations/routes.py",
    } <= set(modules)
    calls = [
        call for name, path in modules.items() for call in _session_calls(path.read_text(), name)
    ]
    assert calls == [], "views commit through @transactional only:\n" + "\n".join(calls)


def test_the_scan_finds_a_view_that_commits_by_hand() -> None:
    source = "def save():\n    db.session.add(row)\n    db.session.commit()\n"
    assert _session_calls(source, "routes.py") == ["routes.py:3: db.session.commit()"]
