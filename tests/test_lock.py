"""requirements/lock.txt: in step with pyproject's dependencies, and recorded in every run manifest."""
from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from effectmeting import manifest as manifest_module
from effectmeting.manifest import NO_LOCK, lock_record, write_manifest

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "lock.txt"


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict[str, str]:
    return manifest_module._pinned_versions(LOCK)


def test_lock_pins_every_declared_dependency_within_its_range():
    """A dependency added to pyproject without `requirements/refresh.sh` fails here, as does a pin
    outside pyproject's range (the lock would then not install)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = list(project["dependencies"])
    for extra in ("test", "cbs", "scale"):
        declared += project["optional-dependencies"][extra]
    pins = _pins()
    for text in declared:
        requirement = Requirement(text)
        name = _normalise(requirement.name)
        assert name in pins, f"{name} is declared in pyproject but not pinned: run requirements/refresh.sh"
        assert requirement.specifier.contains(pins[name], prereleases=True), (name, pins[name], str(requirement))
    assert "effectmeting" not in pins  # the editable project itself must not be pinned
    assert all(not line.startswith(("-e", "--")) for line in LOCK.read_text(encoding="utf-8").splitlines())


def test_manifest_records_the_lock_of_a_source_checkout(tmp_path):
    record = lock_record()
    assert record["path"] == str(LOCK) and record["note"] is None
    assert record["sha256"] == hashlib.sha256(LOCK.read_bytes()).hexdigest()
    data = tmp_path / "x.csv"
    data.write_text("a\n1\n", encoding="utf-8")
    written = json.loads(write_manifest(tmp_path / "m.json", inputs=[data], settings={}).read_text(encoding="utf-8"))
    assert written["software"]["lock"]["sha256"] == record["sha256"]
    assert {"numpy", "pandas", "scipy", "matplotlib", "effectmeting"} <= set(written["software"]["packages"])


def test_manifest_names_pins_that_differ_from_what_is_installed(tmp_path):
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    lock = tmp_path / "requirements" / "lock.txt"
    lock.parent.mkdir()
    installed = manifest_module.package_versions(("numpy",))["numpy"]
    lock.write_text(f"# header\nnumpy=={installed}  # via x\nPandas==0.0.1\nnot-installed-package==1.0\n",
                    encoding="utf-8")
    record = lock_record(lock)
    pandas_version = manifest_module.package_versions(("pandas",))["pandas"]
    assert record["differs_from_installed"] == {"pandas": ["0.0.1", pandas_version]}
    assert record["sha256"] == hashlib.sha256(lock.read_bytes()).hexdigest()


def test_manifest_says_no_lock_when_installed_from_an_index(tmp_path, monkeypatch):
    """An installed wheel has no requirements/lock.txt beside a pyproject.toml."""
    monkeypatch.setattr(manifest_module, "LOCK_FILE", tmp_path / "site-packages" / "requirements" / "lock.txt")
    record = lock_record()
    assert record == {"path": None, "sha256": None, "differs_from_installed": {}, "note": NO_LOCK}
    data = tmp_path / "x.csv"
    data.write_text("a\n1\n", encoding="utf-8")
    written = manifest_module.build_manifest(inputs=[data], settings={})
    assert written["software"]["lock"]["note"] == "no lock (installed from index)"


@pytest.mark.parametrize("line, expected", [("pandas==3.1.1    # via x", {"pandas": "3.1.1"}),
                                            ("Typing_Extensions==4.16.0", {"typing-extensions": "4.16.0"}),
                                            ("    # via pandas", {}), ("", {})])
def test_pinned_versions_reads_uv_output_lines(tmp_path, line, expected):
    path = tmp_path / "lock.txt"
    path.write_text(line + "\n", encoding="utf-8")
    assert manifest_module._pinned_versions(path) == expected
