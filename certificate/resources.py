"""Folders the app reads at run time, found as package data (from a wheel or a checkout)."""

from __future__ import annotations

from importlib.resources import files


def _folder(package: str) -> str:
    try:
        return str(files(package))
    except ModuleNotFoundError as exc:  # an editable install made before setup.py mapped it
        raise RuntimeError(
            f"{package} is not installed: run `make install` (or `pip install -e .`) again"
        ) from exc


def templates_folder() -> str:
    """The page templates: the top-level ``templates/``, installed as ``certificate.templates``."""
    return _folder("certificate.templates")


def migrations_folder() -> str:
    """The Alembic scripts: the top-level ``migrations/``, installed as ``certificate.migrations``."""
    return _folder("certificate.migrations")
