"""The import-linter contracts `make lint` runs hold, and breaking one fails."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
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
