"""The WSGI entry point: ``wsgi:app``."""

from certificate import create_app

app = create_app()
