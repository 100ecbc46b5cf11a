"""Shared fixtures: the demo data set is generated and harmonised once per test session.

Generating the demo (~2 s) and harmonising it (~5 s) used to be repeated by every test module
that needed it.  The fixtures below do it once per session (once per worker under
``pytest -n 2``).  They are shared: tests must not modify the files in ``demo_dir`` or the frames
of ``demo_panel`` in place (take ``.copy()`` first).  Tests of determinism still generate a second
copy of their own and compare it with this one.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import pytest

DEMO_SEED = 20240101


@pytest.fixture(scope="session")
def demo_result(tmp_path_factory) -> dict:
    """What :func:`generate_demo` returned (``sources``, ``truth``, ``files``, ``units``, ...)."""
    from effectmeting.sources.demo import generate_demo

    out = tmp_path_factory.mktemp("demo_session")
    return generate_demo(out, seed=DEMO_SEED)


@pytest.fixture(scope="session")
def demo_dir(demo_result) -> Path:
    """Directory holding the raw demo files, ``sources.toml`` and ``truth.json`` (seed 20240101)."""
    return Path(demo_result["sources"]).parent


@pytest.fixture(scope="session")
def demo_panel(demo_result):
    """``harmonise(sources.toml)`` of the demo with the default settings (reference year 2023, 2023 euros).

    Warnings raised while harmonising (notes on the demo's planted anomalies) are silenced here;
    tests that check warnings call :func:`harmonise` themselves.
    """
    from effectmeting.harmonise.pipeline import harmonise

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return harmonise(demo_result["sources"])
