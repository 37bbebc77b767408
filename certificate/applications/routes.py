"""HTML pages."""

from flask import Blueprint

bp = Blueprint("applications", __name__)
