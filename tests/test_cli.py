"""Command line: harmonise on the demo, demo, validate; errors as one message with exit status 2."""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import tomllib

import pandas as pd
import pytest

from effectmeting.cli import main
from effectmeting.manifest import build_manifest, write_manifest


@pytest.fixture(scope="module")
def harmonised(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli_harmonise")
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        status = main(["harmonise", "--demo", "--out", str(out)])
    return out, status, buffer.getvalue()


def test_harmonise_demo_writes_panel_audit_manifest(harmonised):
    out, status, printed = harmonised
    assert status == 0
    assert "Panel: 342 municipalities x 10 years" in printed
    panel = pd.read_parquet(out / "panel.parquet")
    assert panel["municipality"].nunique() == 342 and len(panel) == 3420
    assert "jeugdhulp_per_1000_youth" in panel.columns
    metadata = json.loads((out / "panel_metadata.json").read_text(encoding="utf-8"))
    assert metadata["reference_year"] == 2023
    audit = pd.read_csv(out / "audit.csv")
    assert {"source", "source_row", "action", "reason"} <= set(audit.columns)
    assert (audit["action"] == "set_aside").sum() == 130
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 20240101 and manifest["settings"]["reference_year"] == 2023
    for entry in manifest["inputs"]:
        with open(entry["path"], "rb") as handle:
            assert entry["sha256"] == hashlib.sha256(handle.read()).hexdigest()
    assert {"numpy", "pandas", "pyarrow", "pandera", "effectmeting"} <= set(manifest["software"]["packages"])
    assert len(manifest["inputs"]) == 8  # seven sources + sources.toml


def test_harmonise_twice_gives_identical_outputs(demo_dir, tmp_path, capsys):
    """Same inputs -> byte-identical panel and audit; manifest differs only in ``created``.

    Uses a smaller manifest (no costs, no designs) from the session's demo (tests/conftest.py) to
    keep the test fast; the manifest is written to tmp_path with absolute paths (the demo is shared).
    """
    full = tomllib.loads((demo_dir / "sources.toml").read_text(encoding="utf-8"))["source"]
    keep = [s for s in full if s["table"] in ("population", "outcomes", "covariates", "transitions")]
    lines = []
    for entry in keep:
        entry = {**entry, "path": str(demo_dir / entry["path"])}
        lines += ["[[source]]"] + [f"{k} = {json.dumps(v)}" for k, v in entry.items() if k != "columns"]
        if "columns" in entry:
            lines += ["[source.columns]"] + [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in entry["columns"].items()]
    small = tmp_path / "small.toml"
    small.write_text("\n".join(lines) + "\n", encoding="utf-8")
    runs = [tmp_path / "a", tmp_path / "b"]
    for run in runs:
        assert main(["harmonise", "--sources", str(small), "--out", str(run)]) == 0
    for name in ("panel.parquet", "audit.csv", "audit_events.csv", "panel_metadata.json"):
        assert (runs[0] / name).read_bytes() == (runs[1] / name).read_bytes(), name
    manifests = [json.loads((run / "manifest.json").read_text(encoding="utf-8")) for run in runs]
    for manifest in manifests:
        manifest.pop("created")
        manifest["settings"].pop("sources")
    assert manifests[0] == manifests[1]
    assert "cost_6_72" not in pd.read_parquet(runs[0] / "panel.parquet").columns


def test_manifest_identical_apart_from_created(tmp_path):
    data = tmp_path / "x.csv"
    data.write_text("a\n1\n", encoding="utf-8")
    first = build_manifest(inputs=[data], settings={"k": 1}, seed=3)
    second = build_manifest(inputs=[data], settings={"k": 1}, seed=3)
    first.pop("created"), second.pop("created")
    assert first == second
    path = write_manifest(tmp_path / "m.json", inputs=[data], settings={"k": 1}, seed=3)
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written["inputs"][0]["sha256"] == hashlib.sha256(b"a\n1\n").hexdigest()
    assert written["created"].endswith("Z")


def test_demo_command(demo_dir, tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--seed", "5"]) == 0
    default = demo_dir / "outcomes_nl.csv"
    assert (tmp_path / "outcomes_nl.csv").read_bytes() != default.read_bytes()  # another seed, other data
    assert (tmp_path / "sources.toml").is_file() and (tmp_path / "truth.json").is_file()
    assert json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))["seed"] == 5
    assert "342 municipalities" in capsys.readouterr().out


def test_validate_ok_and_failures(demo_dir, tmp_path, capsys):
    demo = demo_dir
    assert main(["validate", str(demo / "covariates.csv"), "--schema", "covariates"]) == 0
    assert capsys.readouterr().out.startswith("OK")
    # a Dutch file with its own column names: renames and format come from the sources manifest
    assert main(["validate", str(demo / "outcomes_nl.csv"), "--schema", "outcomes",
                 "--sources", str(demo / "sources.toml")]) == 0
    assert "3642 rows" in capsys.readouterr().out
    bad = tmp_path / "covariates_bad.csv"
    bad.write_text("municipality,year,urbanity,deprivation_index,single_parent_share\n"
                   "GM0363,2020,7,0.5,0.1\n363,2021,1,0.5,1.5\nGM0363,2021,1,0.1,0.1\n", encoding="utf-8")
    assert main(["validate", str(bad), "--schema", "covariates"]) == 1
    err = capsys.readouterr().err
    # every failure listed: out-of-range urbanity (row 2), share > 1 (row 3), repeated key (rows 3, 4)
    assert "row 2, field urbanity" in err and "row 3, field single_parent_share" in err
    assert "duplicate primary key" in err and "Traceback" not in err
    unknown = tmp_path / "covariates_unknown.csv"
    unknown.write_text("municipality,year,urbanity,deprivation_index,single_parent_share\n"
                       "Atlantis,2020,1,0.5,0.1\n", encoding="utf-8")
    assert main(["validate", str(unknown), "--schema", "covariates"]) == 1
    assert "Atlantis" in capsys.readouterr().err


def test_missing_file_exits_2_without_traceback(tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    assert main(["validate", str(missing), "--schema", "outcomes"]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and "Traceback" not in err
    assert main(["harmonise", "--sources", str(tmp_path / "none.toml"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "none.toml" in err and "not found" in err and "Traceback" not in err


def test_seed_only_with_demo(tmp_path, capsys):
    toml = tmp_path / "s.toml"
    toml.write_text("", encoding="utf-8")
    assert main(["harmonise", "--sources", str(toml), "--seed", "3", "--out", str(tmp_path / "o")]) == 2
    assert "--seed" in capsys.readouterr().err
