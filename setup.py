"""A shim for scrapyd-deploy, which builds its egg with `setup.py bdist_egg`.
Everything is configured in pyproject.toml (packages, the scrapy entry point)."""

from setuptools import setup

setup()
