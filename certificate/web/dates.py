"""Moments and dates as pages show them (also offered to every template)."""

from __future__ import annotations

from datetime import datetime


def when(moment: datetime | None) -> str:
    """A moment as people read it, in UTC: ``17 Apr 2026, 14:03 UTC``."""
    return moment.strftime("%d %b %Y, %H:%M UTC") if moment else ""


def day(moment: datetime | None) -> str:
    """A date as people read it: ``17 Apr 2026``."""
    return moment.strftime("%d %b %Y") if moment else ""
