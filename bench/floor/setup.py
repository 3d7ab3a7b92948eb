# SPDX-License-Identifier: MIT
"""Builds ``_tpfloor``, the no-op profiler floor of threadprof's benchmark."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "_tpfloor",
            ["floor.c"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Werror"],
        )
    ],
)
