"""Alembic migrations; shipped in the wheel as ``certificate.migrations``."""
