"""Moments and dates as pages show them (also offered to every template), in the page's
language (CLDR through Babel; see :mod:`certificate.i18n`)."""

from __future__ import annotations

from certificate.i18n import day, when

__all__ = ["day", "when"]
