"""Run manifest: what went in (file hashes), with which software and settings, so a run can be repeated.

``manifest.json`` is byte-identical for identical inputs, settings, seed and software, except for
the one field ``created`` (UTC timestamp), kept separate so it is easy to ignore when comparing.
"""
from __future__ import annotations

import hashlib
import json
import platform
import re
import sys
from datetime import datetime, UTC
from importlib import metadata
from pathlib import Path
from typing import Any

from effectmeting.errors import InputError

PACKAGES = ("effectmeting", "numpy", "scipy", "pandas", "statsmodels", "linearmodels", "matplotlib", "pandera",
            "pyarrow")
# requirements/lock.txt beside the project: present in a source checkout (src layout, two levels up
# from this file), absent when effectmeting was installed from an index.
LOCK_FILE = Path(__file__).resolve().parents[2] / "requirements" / "lock.txt"
NO_LOCK = "no lock (installed from index)"


def file_sha256(path: str | Path) -> str:
    """SHA-256 (hex) of a file's bytes; :class:`InputError` if it does not exist."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"cannot hash {path}: file not found")
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed version per package (``None`` if not installed)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _pinned_versions(lock: Path) -> dict[str, str]:
    """``name == version`` lines of a pip requirements/constraints file, names normalised (PEP 503)."""
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        requirement = line.split("#", 1)[0].strip()
        if "==" in requirement:
            name, version = requirement.split("==", 1)
            pins[re.sub(r"[-_.]+", "-", name.strip()).lower()] = version.strip()
    return pins


def lock_record(lock: str | Path | None = None) -> dict[str, Any]:
    """The lock file the environment was meant to be installed from, for the manifest.

    In a source checkout (``requirements/lock.txt`` beside ``pyproject.toml``): its path, SHA-256
    and the installed packages whose version differs from their pin (``{name: [pinned, installed]}``,
    empty when the environment was installed from this lock; packages not installed are skipped,
    e.g. the test extras in a user's environment).  Otherwise ``note`` says :data:`NO_LOCK`.
    """
    lock = Path(lock) if lock is not None else LOCK_FILE
    if not (lock.is_file() and (lock.parent.parent / "pyproject.toml").is_file()):
        return {"path": None, "sha256": None, "differs_from_installed": {}, "note": NO_LOCK}
    differs = {}
    for name, pinned in sorted(_pinned_versions(lock).items()):
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        if installed != pinned:
            differs[name] = [pinned, installed]
    return {"path": str(lock), "sha256": file_sha256(lock), "differs_from_installed": differs, "note": None}


def build_manifest(*, inputs: list[str | Path], settings: dict[str, Any], seed: int | None = None,
                   extra: dict[str, Any] | None = None, created: datetime | None = None) -> dict[str, Any]:
    """The manifest as a dict (see :func:`write_manifest`)."""
    created = created or datetime.now(UTC)
    files = [{"path": str(Path(p)), "name": Path(p).name, "sha256": file_sha256(p), "bytes": Path(p).stat().st_size}
             for p in sorted(inputs, key=lambda p: str(p))]
    return {
        "created": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "inputs": files,
        "settings": settings,
        "seed": seed,
        "software": {"python": sys.version.split()[0], "implementation": platform.python_implementation(),
                     "platform": platform.platform(), "packages": package_versions(), "lock": lock_record()},
        "extra": extra or {},
    }


def write_manifest(path: str | Path, *, inputs: list[str | Path], settings: dict[str, Any], seed: int | None = None,
                   extra: dict[str, Any] | None = None) -> Path:
    """Write ``manifest.json``: input files with SHA-256 and size, settings, seed, software versions
    and the lock file (``software.lock``, see :func:`lock_record`).

    ``settings`` and ``extra`` must be JSON-serialisable (paths are written as strings).  Keys are
    sorted so that the file depends only on its content; ``created`` is the UTC time of writing.
    """
    manifest = build_manifest(inputs=inputs, settings=settings, seed=seed, extra=extra)
    path = Path(path)
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    return path
