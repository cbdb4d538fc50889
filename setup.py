"""Build the optional C parser; everything else is in pyproject.toml."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("poolkit._fastjson", ["poolkit/_fastjson.c"], optional=True,
                             extra_compile_args=["-O2"])])
