"""The "mijn gemeente" analysis (``analyses/mijn_gemeente.toml``): GM0363 against its synthetic twin, run
by ``effectmeting run`` on the demo data, with the Dutch report; and its ``[case_study]`` checks."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from effectmeting.cli import main

ROOT = Path(__file__).resolve().parents[2]
MIJN_GEMEENTE = ROOT / "analyses" / "mijn_gemeente.toml"


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mijn_gemeente") / "out"
    assert main(["run", str(MIJN_GEMEENTE), "--out", str(out), "--quiet"]) == 0
    return out


def test_run_writes_the_case_study(run):
    estimates = pd.read_csv(run / "case_study.csv")
    assert list(estimates["outcome"]) == ["jeugdhulp_per_1000_youth", "wmo_per_1000_adults"]
    assert (estimates["municipality"] == "GM0363").all() and (estimates["adoption_year"] == 2023).all()
    assert estimates[["estimate", "std_error", "conf_low", "conf_high"]].notna().all().all()
    assert (estimates["pre_rmspe_in_noise"] <= 3).all() and (estimates["n_pre"] == 8).all()
    weights = pd.read_csv(run / "case_study_weights.csv")
    sums = weights.groupby(["outcome", "kind"])["weight"].sum()
    assert sums.to_numpy() == pytest.approx(1.0)
    gaps = pd.read_csv(run / "case_study_gaps.csv")
    post = gaps[gaps["post"]].groupby("outcome")["gap"].mean()
    assert post.reindex(estimates["outcome"]).to_numpy() == pytest.approx(estimates["estimate"].to_numpy())
    placebos = pd.read_csv(run / "case_study_placebos.csv")
    assert (placebos.groupby("outcome").size() == 99).all()
    assert (run / "manifest.json").is_file()


def test_dutch_report_shows_twin_gap_placebos_and_weights(run):
    report = (run / "report.html").read_text(encoding="utf-8")
    assert '<html lang="nl">' in report
    for needle in ("synthetische tweeling", "Placebo", "Waar de tweeling uit bestaat", "Hoe goed past de tweeling",
                   "overige",
                   "GM0363"):
        assert needle in report, needle
    figures = sorted(p.name for p in (run / "figures").glob("*.png"))
    assert figures == ["case_study_1_placebos.png", "case_study_1_trajectory.png", "case_study_2_placebos.png",
                       "case_study_2_trajectory.png"]


CASE = """
[analysis]
title = "t"
[data]
demo = true
[case_study]
municipality = "GM0363"
design = "expertise=generalists_with_specialists"
outcomes = ["jeugdhulp_per_1000_youth"]
"""


@pytest.mark.parametrize("text, needles", [
    (CASE.replace('"GM0363"', '"Amsterdam"'), ["case_study.municipality", "'Amsterdam'", "GM0363"]),
    (CASE.replace("generalists_with_specialists", "hugs"), ["case_study.design", "'hugs'"]),
    (CASE + 'estimator = "ols"\n', ["case_study.estimator", "'ols'", "sdid, sc"]),
    (CASE.replace('"jeugdhulp_per_1000_youth"', '"happiness"'), ["case_study.outcomes", "'happiness'"]),
    (CASE + "n_draws = 5\n", ["case_study.n_draws", "at least 19"]),
    (CASE.replace('municipality = "GM0363"\n', ""), ["case_study.municipality", "required key missing"]),
])
def test_case_study_errors_are_one_paragraph(tmp_path, capsys, text, needles):
    path = tmp_path / "a.toml"
    path.write_text(text, encoding="utf-8")
    code = main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1
    for needle in needles:
        assert needle in err, (needle, err)
