"""``case_study``: one municipality's own answer -- its outcomes against a synthetic twin.

For one municipality that adopted a design choice (``design="expertise=generalists_with_specialists"``)
in some year, the donors are the municipalities that never adopted it in the panel's years; each
outcome is estimated with :func:`~effectmeting.synthetic_did` (default) or
:func:`~effectmeting.synthetic_control`.  The estimators are called, never re-derived.

Donors without a value of the outcome in every year cannot be part of a twin (a twin is a weighted
sum of whole histories); they are left out of that outcome's donor pool and named in the notes --
never silently.  The municipality itself must have every year; otherwise the estimator refuses.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from effectmeting.designs.dimensions import DesignError
from effectmeting.designs.treatments import derive_treatment
from effectmeting.errors import IdentificationError, OptionError
from effectmeting.estimate.registry import CASE_STUDY_ESTIMATORS
from effectmeting.estimate.synthetic.placebo import MAX_PRE_RMSPE
from effectmeting.estimate.synthetic.results import SyntheticResults
from effectmeting.estimate.synthetic.synthetic_control import synthetic_control
from effectmeting.estimate.synthetic.synthetic_did import synthetic_did
from effectmeting.study.spec import parse_design


@dataclass
class CaseStudy:
    """The results of :func:`case_study`: one :class:`SyntheticResults` per outcome."""

    municipality: str
    design: str
    adoption_year: int
    estimator: str
    results: dict[str, SyntheticResults]
    notes: list[str] = field(default_factory=list)

    def estimates(self) -> pd.DataFrame:
        """One row per outcome: the effect, its interval, the fit and the placebo p-values."""
        rows = []
        for outcome, result in self.results.items():
            tidy = result.tidy().iloc[0]
            facts = result.glance().iloc[0]
            rows.append({"municipality": self.municipality, "design": self.design, "outcome": outcome,
                         "estimator": self.estimator, "adoption_year": self.adoption_year,
                         "estimate": tidy["estimate"], "std_error": tidy["std_error"], "conf_low": tidy["conf_low"],
                         "conf_high": tidy["conf_high"], "placebo_p_value": facts["placebo_p_value"],
                         "rmspe_ratio_p_value": facts["rmspe_ratio_p_value"], "pre_rmspe": facts["pre_rmspe"],
                         "pre_rmspe_in_noise": facts["pre_rmspe_in_noise"], "n_donors": facts["n_donors"],
                         "n_pre": facts["n_pre"], "n_post": facts["n_post"]})
        return pd.DataFrame(rows)


def case_study(panel, *, municipality: str, design: str, outcomes: list[str], estimator: str = "sdid",
               min_pre_periods: int = 4, max_pre_rmspe: float | None = MAX_PRE_RMSPE, n_draws: int = 200,
               seed: int | None = None) -> CaseStudy:
    """Each outcome of ``municipality`` against its synthetic twin after it adopted ``design``.

    ``panel`` is a harmonised :class:`~effectmeting.harmonise.panel.Panel`; ``estimator`` is
    ``"sdid"`` (synthetic DiD, placebo standard errors) or ``"sc"`` (synthetic control, outcomes of
    every pre-period as predictors).  Refuses (:class:`IdentificationError`) a municipality that is
    not in the panel or never adopts the design in its years, or adopted it in the first year.
    """
    if estimator not in CASE_STUDY_ESTIMATORS:
        raise OptionError(f"case_study: estimator={estimator!r} is unknown; use one of "
                          f"{', '.join(CASE_STUDY_ESTIMATORS)}", reason="unknown_estimator")
    spec = parse_design(design)
    try:
        timing = derive_treatment(panel, dimension=spec.dimension, treated_value=spec.treated_value,
                                  threshold=spec.threshold)
    except DesignError as exc:
        raise IdentificationError(f"design {design!r}: {exc}") from None
    frame, excluded = timing.absorbing(treated_at_start="exclude")
    cohorts = frame.drop_duplicates("municipality").set_index("municipality")["first_adoption_year"]
    if municipality not in cohorts.index:
        why = ("had it already in its first year (no pre-period) or switched back"
               if municipality in set(excluded["municipality"]) else "is not in the panel")
        raise IdentificationError(f"case_study: {municipality} {why} for design {design!r}",
                                  reason="not_an_adopter")
    adoption = int(cohorts[municipality])
    if adoption == 0:
        raise IdentificationError(f"case_study: {municipality} never adopts {design!r} in the panel's years; "
                                  "choose the design it adopted", reason="not_an_adopter")
    donors = cohorts.index[cohorts == 0]
    data = panel.data
    keep = data["municipality"].isin([*donors, municipality])
    notes = [f"{municipality} adopts {design} in {adoption}; {len(donors)} municipalities never adopt it and "
             "form the donor pool"]
    results = {}
    for outcome in outcomes:
        rows = data.loc[keep, ["municipality", "year", outcome]]
        complete = rows.groupby("municipality")[outcome].apply(lambda v: bool(v.notna().all()))
        years = rows.groupby("municipality")["year"].nunique()
        whole = complete & (years == data["year"].nunique())
        dropped = [m for m in whole.index[~whole] if m != municipality]
        if dropped:
            notes.append(f"{outcome}: {len(dropped)} donor(s) without a value in every year left out of the donor "
                         f"pool: {', '.join(map(str, dropped[:10]))}{' ...' if len(dropped) > 10 else ''}")
        rows = rows[~rows["municipality"].isin(dropped)]
        rows = rows.assign(treated=((rows["municipality"] == municipality) & (rows["year"] >= adoption)).astype(int))
        fit = synthetic_did if estimator == "sdid" else synthetic_control
        results[outcome] = fit(rows, outcome=outcome, unit="municipality", time="year", treatment="treated",
                               min_pre_periods=min_pre_periods, max_pre_rmspe=max_pre_rmspe, n_draws=n_draws,
                               seed=seed)
    return CaseStudy(municipality=municipality, design=design, adoption_year=adoption, estimator=estimator,
                     results=results, notes=notes)
