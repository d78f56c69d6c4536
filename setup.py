"""The optional C extension of the block scanner (banscan/fast/_lines.c); everything else is in
pyproject.toml.  Without a C compiler the package installs without it and uses the same functions
in Python (banscan/fast/lines.py)."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("banscan.fast._lines", ["src/banscan/fast/_lines.c"], optional=True)])
