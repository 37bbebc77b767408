"""Packaging beyond what pyproject.toml can say: the top-level ``templates/`` and
``migrations/`` folders ship inside the wheel as ``certificate.templates`` and
``certificate.migrations``, found at run time through importlib.resources."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["certificate", "certificate.*", "country_adapters*"]),
        "certificate.templates",
        "certificate.migrations",
    ],
    package_dir={"certificate.templates": "templates", "certificate.migrations": "migrations"},
)
