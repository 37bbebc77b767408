"""A check's life: claim, ask the country's adapter, store the answer, deadlines.

The job engine runs checks; this feature has no pages of its own.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Nothing to register: checks are driven by the job engine and shown by other features."""
