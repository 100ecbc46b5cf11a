"""Analysis files and the ``run`` command: validation messages, an end-to-end demo run, reproducibility."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from effectmeting.analysis.run import ESTIMATE_COLUMNS, run_analysis
from effectmeting.analysis.config import load_analysis
from effectmeting.cli import main
from effectmeting.errors import AnalysisConfigError

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "analyses" / "demo.toml"

GOOD = """
[analysis]
title = "t"
[data]
demo = true
[[design]]
name = "role=gives_help"
outcomes = ["jeugdhulp_per_1000_youth"]
estimators = ["cs"]
"""


def _cli(tmp_path: Path, text: str, capsys) -> tuple[int, str]:
    path = tmp_path / "a.toml"
    path.write_text(text, encoding="utf-8")
    code = main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    return code, err


@pytest.mark.parametrize("text, needles", [
    (GOOD.replace('title = "t"', 'title = "t'), ["not valid TOML", "line 3"]),
    (GOOD.replace('title = "t"', 'title = "t"\ncolour = "red"'), ["analysis.colour", "unknown key", "language"]),
    (GOOD.replace('title = "t"', "title = 3"), ["analysis.title", "3", "expected a string"]),
    (GOOD.replace('["cs"]', '["cs", "ols"]'), ["design[0].estimators", "'ols'", "twfe, cs, sa, imputation, did2s, dcdh"]),
    (GOOD.replace("role=gives_help", "role=hugs"), ["design[0].name", "'hugs'", "triage_only"]),
    (GOOD.replace("role=gives_help", "colour=red"), ["design[0].name", "'colour'", "Known dimensions", "role"]),
    (GOOD + '[costs]\nestimator = "ols"\n', ["costs.estimator", "'ols'", "cs, sa, imputation, twfe"]),
    (GOOD.replace("demo = true", 'sources = "nope/sources.toml"'), ["data.sources", "nope/sources.toml",
                                                                   "relative to the analysis file"]),
])
def test_config_errors_are_one_paragraph_with_exit_2(tmp_path, capsys, text, needles):
    code, err = _cli(tmp_path, text, capsys)
    assert code == 2
    assert "Traceback" not in err
    assert err.count("\n") == 1  # one paragraph
    for needle in needles:
        assert needle in err, (needle, err)


def test_load_fills_defaults_and_resolves_paths(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "sources.toml").write_text("", encoding="utf-8")
    path = tmp_path / "a.toml"
    path.write_text(GOOD.replace("demo = true", 'sources = "data/sources.toml"'), encoding="utf-8")
    config = load_analysis(path)
    assert config.sources == (tmp_path / "data" / "sources.toml").resolve()
    assert config.language == "nl" and config.multiplicity == "holm" and config.bootstrap is None
    assert config.designs[0].control == "never" and config.costs is None
    with pytest.raises(AnalysisConfigError, match=r"inference.multiplicity.*'bonferroni'.*holm, romano_wolf"):
        path.write_text(GOOD + '\n[inference]\nmultiplicity = "bonferroni"\n', encoding="utf-8")
        load_analysis(path)
    with pytest.raises(AnalysisConfigError, match=r"disclosure.min_cell_size.*expected an integer"):
        path.write_text(GOOD + "\n[disclosure]\nmin_cell_size = true\n", encoding="utf-8")
        load_analysis(path)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    result = run_analysis(DEMO, out / "first", quiet=True)
    return result, out


def test_demo_run_writes_every_output(demo_run):
    """Every output file is there (how long the run takes: benchmarks/bench_demo.py)."""
    result, _ = demo_run
    out = result.out_dir
    for name in ("estimates.csv", "report.html", "audit.csv", "manifest.json", "truth.json", "cost_effects.csv",
                 "cost_per_outcome.csv", "tables/overall_1.md", "tables/overall_1.tex", "tables/overall_1.html",
                 "figures/forest_1.png", "figures/forest_1.svg",
                 "figures/event_study_1_jeugdhulp_per_1000_youth.png", "figures/cost_effects.svg"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    estimates = pd.read_csv(out / "estimates.csv", keep_default_na=False)
    assert list(estimates.columns) == ESTIMATE_COLUMNS
    assert set(estimates["estimator"]) == {"twfe", "cs", "sa", "imputation"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 20240101 and "[[design]]" in manifest["settings"]["analysis"]
    assert set(manifest["extra"]["timings_seconds"]) == {"config", "harmonise", "estimate", "costs", "report"}
    assert all(len(f["sha256"]) == 64 for f in manifest["inputs"])
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.index("Samenvatting") < html.index("Methoden") < html.index("Kanttekeningen")


def test_demo_estimates_recover_the_planted_effect(demo_run):
    """The run's intervals against truth.json (planted, not hard-coded).  demo.toml keeps the
    default ``switchers = "exclude"``, whose estimand is truth.json's ``excluding_switchers``."""
    result, _ = demo_run
    truth = json.loads((result.out_dir / "truth.json").read_text())["designs"]["role=gives_help"]["outcomes"]
    rows = result.estimates
    rows = rows[rows["estimator"].isin(["cs", "sa", "imputation"]) & rows["aggregation"].isin(["overall", "event_time"])]
    target = [truth[o]["excluding_switchers"]["att"] if a == "overall"
              else truth[o]["excluding_switchers"]["by_event_time"].get(str(k))
              for o, a, k in zip(rows["outcome"], rows["aggregation"], rows["key"])]
    rows = rows.assign(truth=target).dropna(subset=["truth"])
    covered = (rows["conf_low"] <= rows["truth"]) & (rows["truth"] <= rows["conf_high"])
    assert len(rows) > 60
    assert covered.mean() >= 0.90, rows[~covered]
    for outcome in ("jeugdhulp_per_1000_youth", "cost_6_72_per_inhabitant"):
        row = rows[(rows["outcome"] == outcome) & (rows["estimator"] == "cs") & (rows["aggregation"] == "overall")].iloc[0]
        assert row["conf_low"] <= row["truth"] <= row["conf_high"], (outcome, row)


def test_rerun_is_byte_identical(demo_run):
    result, out = demo_run
    second = run_analysis(DEMO, out / "second", quiet=True)
    for name in ("estimates.csv", "cost_effects.csv", "cost_per_outcome.csv"):
        assert (result.out_dir / name).read_bytes() == (second.out_dir / name).read_bytes(), name


def test_unknown_outcome_is_refused_before_harmonising(tmp_path, capsys):
    """Checked against the sources' declared columns (tests/test_cli.py checks that no work starts)."""
    code, err = _cli(tmp_path, GOOD.replace('["jeugdhulp_per_1000_youth"]', '["happiness"]'), capsys)
    assert code == 2 and "design[0].outcomes" in err and "'happiness'" in err and "wmo_per_1000_adults" in err
    assert not (tmp_path / "out").exists()


def test_declared_outcome_missing_from_the_data_is_refused_after_harmonising(demo_dir, tmp_path, capsys):
    """A declared column the files lack (here: no rate without its population) is caught by the panel check."""
    from effectmeting.analysis.columns import check_against_panel
    from effectmeting.harmonise.panel import Panel

    config = load_analysis(_write(tmp_path, GOOD))
    panel = Panel(data=pd.DataFrame({"municipality": ["GM0001"], "year": [2020], "population_total": [1.0]}),
                  designs=pd.DataFrame({"municipality": ["GM0001"], "year": [2020], "dimension": ["role"],
                                        "value": ["gives_help"]}))
    with pytest.raises(AnalysisConfigError, match=r"design\[0\].outcomes.*'jeugdhulp_per_1000_youth'.*Allowed: $"):
        check_against_panel(config, panel)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "a.toml"
    path.write_text(text, encoding="utf-8")
    return path
