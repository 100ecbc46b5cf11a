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


# --- version, run options, early checks, no output left behind, warnings (issue 18, items 4 and 5) ---

ONE_DESIGN = """
[analysis]
title = "t"
language = "nl"
seed = 1
[data]
{data}
[[design]]
name = "role=gives_help"
outcomes = [{outcomes}]
estimators = ["twfe"]
"""


def _analysis(tmp_path, data='demo = true', outcomes='"jeugdhulp_per_1000_youth"'):
    path = tmp_path / "a.toml"
    path.write_text(ONE_DESIGN.format(data=data, outcomes=outcomes), encoding="utf-8")
    return path


def _module(name: str):
    # by import, not by dotted attribute: effectmeting.harmonise is also the name of a lazy export
    import importlib

    return importlib.import_module(name)


def _one_paragraph(err: str) -> None:
    assert err.count("\n") == 1 and "Traceback" not in err, err


def test_version(capsys):
    from effectmeting import __version__

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"effectmeting {__version__}"


def test_run_with_lang_seed_out_and_quiet(demo_dir, tmp_path, capsys):
    """--lang and --seed override the file (recorded in the manifest); --quiet prints only the folder."""
    path = _analysis(tmp_path, data=f'sources = "{(demo_dir / "sources.toml").as_posix()}"')
    out = tmp_path / "results" / "english"
    assert main(["run", str(path), "--lang", "en", "--seed", "7", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr()
    assert printed.out.strip() == str(out) and printed.err == ""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 7
    assert manifest["settings"]["language"] == "en"
    assert manifest["settings"]["overrides"] == {"language": "en", "seed": 7}
    assert 'seed = 1' in manifest["settings"]["analysis"]  # the file as written, next to the overrides
    assert '<html lang="en">' in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("argv, needle", [(["--seed", "-3"], "--seed -3"), (["--lang", "de"], "invalid choice")])
def test_run_refuses_bad_options(tmp_path, capsys, argv, needle):
    path = _analysis(tmp_path)
    try:
        code = main(["run", str(path), "--out", str(tmp_path / "out"), *argv])
    except SystemExit as stop:  # argparse refuses an unknown choice itself, with status 2
        code = stop.code
    assert code == 2 and needle in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.fixture
def no_heavy_work(monkeypatch):
    """Fail the test if the demo is generated or sources are harmonised."""
    def refuse(*args, **kwargs):
        raise AssertionError("heavy work started before the analysis file was checked")

    monkeypatch.setattr(_module("effectmeting.sources.demo"), "generate_demo", refuse)
    monkeypatch.setattr(_module("effectmeting.harmonise.pipeline"), "harmonise", refuse)


@pytest.mark.parametrize("outcome", ["jeugdhulp_per_1000_yuth", "population_total", "urbanity"])
def test_unknown_outcome_refused_before_any_work(tmp_path, capsys, no_heavy_work, outcome):
    """Outcomes are checked against the columns the sources declare; covariates are not outcomes."""
    path = _analysis(tmp_path, outcomes=f'"{outcome}"')
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    message = err.splitlines()[-1]
    _one_paragraph(message + "\n")
    assert f"design[0].outcomes: unknown outcome '{outcome}'" in message
    allowed = message.split("Allowed outcomes: ")[1]
    assert "jeugdhulp_per_1000_youth" in allowed and "wmo_per_1000_adults" in allowed and "cost_<taakveld>" in allowed
    assert "population_total" not in allowed and "urbanity" not in allowed
    assert not (tmp_path / "out").exists()


def test_costs_need_a_costs_source(demo_dir, tmp_path, capsys, no_heavy_work):
    lines = (demo_dir / "sources.toml").read_text(encoding="utf-8").split("[[source]]")
    kept = [block for block in lines if 'table = "costs"' not in block]
    sources = tmp_path / "sources.toml"
    sources.write_text("[[source]]".join(kept).replace('path = "', f'path = "{demo_dir.as_posix()}/'),
                       encoding="utf-8")
    path = _analysis(tmp_path, data='sources = "sources.toml"')
    path.write_text(path.read_text(encoding="utf-8") + "[costs]\n", encoding="utf-8")
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    _one_paragraph(err)
    assert "costs: the sources have no 'costs' table" in err


def test_demo_tables_match_the_generated_demo(demo_dir):
    from effectmeting.analysis.columns import DEMO_TABLES

    document = tomllib.loads((demo_dir / "sources.toml").read_text(encoding="utf-8"))
    assert {s["table"] for s in document["source"]} == set(DEMO_TABLES)


def _failing_harmonise(monkeypatch):
    from effectmeting.errors import InputError

    def fail(*args, **kwargs):
        raise InputError("the sources are broken (simulated)")

    monkeypatch.setattr(_module("effectmeting.harmonise.pipeline"), "harmonise", fail)


def test_failed_run_leaves_no_output_folder(tmp_path, capsys, monkeypatch):
    _failing_harmonise(monkeypatch)  # after the demo sources were written into the output folder
    out = tmp_path / "new" / "deeper" / "out"
    assert main(["run", str(_analysis(tmp_path)), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    _one_paragraph(err)
    assert "simulated" in err
    assert not (tmp_path / "new").exists()  # nor the parents the run created


def test_failed_run_keeps_an_existing_folder_and_its_files(tmp_path, capsys, monkeypatch):
    _failing_harmonise(monkeypatch)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    assert main(["run", str(_analysis(tmp_path)), "--out", str(out), "--quiet"]) == 2
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]  # demo_sources/ removed again
    assert (out / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_failed_harmonise_leaves_no_output_folder(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["harmonise", "--sources", str(tmp_path / "none.toml"), "--out", str(out)]) == 2
    assert not out.exists()


def test_dependency_warnings_hidden_own_warnings_shown(tmp_path, capsys, monkeypatch):
    """Filtered by category and module: a library's FutureWarning or UserWarning never reaches the user."""
    import warnings

    from effectmeting import cli
    from effectmeting.errors import FewClustersWarning

    def noisy(args):
        warnings.warn_explicit("old API", FutureWarning, "frame.py", 1, module="pandas.core.frame")
        warnings.warn_explicit("deprecated", DeprecationWarning, "x.py", 1, module="effectmeting.x")
        warnings.warn_explicit("a note for programmers", UserWarning, "estimation.py", 2,
                               module="pyfixest.estimation.estimation")
        warnings.warn("only 4 clusters", FewClustersWarning, stacklevel=1)
        return 0

    monkeypatch.setitem(cli.COMMANDS, "demo", noisy)
    assert main(["demo", "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "only 4 clusters" in err and "FewClustersWarning" in err
    assert "old API" not in err and "deprecated" not in err and "programmers" not in err


def test_interrupted_run_leaves_nothing_and_no_traceback(tmp_path, capsys, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_module("effectmeting.harmonise.pipeline"), "harmonise", interrupt)
    out = tmp_path / "out"
    assert main(["run", str(_analysis(tmp_path)), "--out", str(out), "--quiet"]) == 130
    err = capsys.readouterr().err
    _one_paragraph(err)
    assert "interrupted" in err and not out.exists()
