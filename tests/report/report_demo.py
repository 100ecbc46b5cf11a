"""A demo report without a full ``effectmeting run``: shared by test_report.py and test_report_browser.py.

The session fixture ``demo_panel`` (tests/conftest.py) holds the harmonised demo panel; here one
small design study (three estimators, one outcome) and the cost results are computed on it once
per session (cached on the panel object), and :func:`write_outputs` writes tables, figures and
report.html in the language asked.  About 5 s once, then ~3 s per language for the figures.
"""
from __future__ import annotations

import types
from pathlib import Path

import pandas as pd

DESIGN = "role=gives_help"
OUTCOMES = ["jeugdhulp_per_1000_youth"]  # one outcome keeps the (slow) sensitivity analysis short
ESTIMATORS = ["twfe", "cs", "sa"]
_CACHE: dict[int, tuple] = {}


def _inputs(panel):
    """Studies, estimates and costs of the demo design (computed once per panel object)."""
    if id(panel) not in _CACHE:
        from effectmeting.costs import cost_effect, cost_per_outcome
        from effectmeting.study import design_effect

        study = design_effect(panel, design=DESIGN, outcomes=OUTCOMES, estimator=ESTIMATORS, control="never",
                              seed=20240101, multiplicity="holm", sensitivity=True)
        estimates = study.tidy()
        effect = cost_effect(panel, design=DESIGN, lines=["youth", "total_social_domain"], horizon=3)
        ratio = cost_per_outcome(panel, design=DESIGN, cost_line="youth", outcome=OUTCOMES[0], n_draws=99,
                                 seed=20240101)
        costs = {"result": effect, "ratios": [ratio], "effects": effect.tidy().assign(design=DESIGN),
                 "per_outcome": ratio.tidy().assign(design=DESIGN, cost_line="youth", outcome=OUTCOMES[0],
                                                     n_units=ratio.n_units)}
        _CACHE[id(panel)] = ({DESIGN: study}, estimates, costs)
    return _CACHE[id(panel)]


def write_demo_report(panel, out: Path, lang: str = "nl") -> tuple[Path, pd.DataFrame]:
    """Write the demo outputs into ``out`` in ``lang``; return report.html's path and the estimates."""
    from effectmeting.report.study_report import write_outputs

    studies, estimates, costs = _inputs(panel)
    config = types.SimpleNamespace(language=lang, reference_year=2023, price_base_year=2023, multiplicity="holm",
                                   seed=20240101, description="", title="Effectmeting demo", path=Path("demo.toml"),
                                   figure_format="png", demo=True, min_cell_size=5)
    notes = [n for s in studies.values() for n in s.notes]
    write_outputs(out, config, panel, studies, estimates, costs, notes, {})
    return out / "report.html", estimates
