"""Reference data bundled with the package, the lowest stage above :mod:`effectmeting.errors`.

* ``register``  -- the municipal register (codes, names, validity dates) and its look-ups;
* ``data/``     -- the register and the bundled municipal transitions, each with a SOURCE note;
* ``schemas/``  -- the Frictionless Table Schemas of every input table (the one copy; the
  repository's top-level ``data_schema/`` is a link to it).

Every other stage may read from here; nothing here imports another stage.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path


def data_path(name: str) -> Path:
    """Path of a bundled reference file in ``effectmeting/reference/data``."""
    return Path(str(resources.files("effectmeting.reference").joinpath("data", name)))


def schema_directory() -> Path:
    """Directory of the bundled schema JSON files (``effectmeting/reference/schemas``)."""
    return Path(str(resources.files("effectmeting.reference").joinpath("schemas")))
