"""The one list of the difference-in-differences estimators the study, cost and report stages offer.

Each estimator is described once, here: its code (``"cs"``), its labels (Dutch and English, for
the report), the reference and caveat the cost notes cite, what it identifies, which treatment
path and comparison groups it takes, and its pre-trend test.  The stages read this module; they
do not keep lists of their own:

* :mod:`effectmeting.study` -- which estimators ``design_effect`` accepts and in which order it
  reports them (:data:`STUDY_ESTIMATORS`), which ones need an absorbing treatment (:data:`ABSORBING`);
* :mod:`effectmeting.costs` -- the cost stage's estimators (:data:`COST_ESTIMATORS`) and the
  citation in its notes;
* :mod:`effectmeting.analysis.config` -- the values an analysis file may name;
* :mod:`effectmeting.report` -- labels and which estimators are heterogeneity-robust.

Pure data: importing it imports no estimator (the report may read it; see the import-linter
contract "report renders, never estimates" in pyproject).  A new estimator gets one entry here
and a runner in :mod:`effectmeting.study.estimators`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from effectmeting.errors import OptionError


@dataclass(frozen=True)
class EstimatorInfo:
    """One estimator: ``name`` is the code every stage and analysis file uses."""

    name: str
    label_nl: str
    label_en: str
    #: reference and caveat cited in cost-stage notes and tables (``None``: no cost version)
    citation: str | None
    #: the estimand, in words
    identifies: str
    #: ``"absorbing"`` (first adoption, treated ever after) or ``"switching"`` (the full 0/1 path)
    treatment: Literal["absorbing", "switching"]
    #: robust to effects that differ across cohorts and over time (TWFE is not)
    heterogeneity_robust: bool
    #: comparison groups (``control=``) it accepts in ``design_effect``
    controls: tuple[str, ...]
    #: what its pre-trend test in the study tests
    pretrend: str
    #: options the study passes on, for documentation
    options: tuple[str, ...] = ()

    def label(self, lang: str = "en") -> str:
        """The label in ``lang`` (``"nl"`` or ``"en"``)."""
        return self.label_nl if lang == "nl" else self.label_en


_ALL = (
    EstimatorInfo(
        name="twfe", label_nl="TWFE (klassiek)", label_en="TWFE (classic)",
        citation="two-way fixed effects (static for the overall effect, dynamic by event time; BIASED under "
                 "heterogeneous effects across cohorts or event times, shown for contrast only)",
        identifies="a variance-weighted average of 2x2 comparisons, including already-treated controls "
                   "(biased when effects change over time)",
        treatment="absorbing", heterogeneity_robust=False, controls=("never", "notyet"),
        pretrend="TWFE event-study leads", options=("covariates", "seed")),
    EstimatorInfo(
        name="cs", label_nl="Callaway-Sant'Anna", label_en="Callaway-Sant'Anna",
        citation="Callaway & Sant'Anna (2021), doubly robust",
        identifies="ATT(g,t) per adoption cohort and year, aggregated to overall, event-time, cohort and "
                   "calendar effects",
        treatment="absorbing", heterogeneity_robust=True, controls=("never", "notyet"),
        pretrend="Wald test of the pre-treatment event-time ATTs (dynamic aggregation)", options=("control", "covariates")),
    EstimatorInfo(
        name="sa", label_nl="Sun-Abraham", label_en="Sun-Abraham",
        citation="Sun & Abraham (2021) interaction-weighted",
        identifies="cohort-share weighted event-time effects (interaction-weighted)",
        treatment="absorbing", heterogeneity_robust=True, controls=("never", "notyet"),
        pretrend="Sun-Abraham pre-period coefficients", options=("control", "covariates")),
    EstimatorInfo(
        name="imputation", label_nl="Imputatie (Borusyak e.a.)", label_en="Imputation (Borusyak et al.)",
        citation="Borusyak, Jaravel & Spiess (2024) imputation",
        identifies="the average effect on treated observations, imputing untreated outcomes from "
                   "never- and not-yet-treated observations",
        treatment="absorbing", heterogeneity_robust=True, controls=("never", "notyet"),
        pretrend="BJS pre-trend leads", options=("covariates",)),
    EstimatorInfo(
        name="did2s", label_nl="Tweetraps-DiD (Gardner)", label_en="Two-stage DiD (Gardner)",
        citation="Gardner (2021) two-stage difference-in-differences",
        identifies="the average effect on treated observations (the imputation estimator's overall ATT) and "
                   "effects by event time, from outcomes residualised on unit and year effects fitted to "
                   "never- and not-yet-treated observations; GMM standard errors for the first stage",
        treatment="absorbing", heterogeneity_robust=True, controls=("never", "notyet"),
        pretrend="two-stage event-study leads (mean first-stage residuals before adoption)",
        options=("covariates",)),
    EstimatorInfo(
        name="dcdh", label_nl="De Chaisemartin-D'Haultfœuille", label_en="De Chaisemartin-D'Haultfœuille",
        citation=None,
        identifies="effects of first switches by horizon on the full switching path (switching back "
                   "included), and their average total effect per unit of treatment",
        treatment="switching", heterogeneity_robust=True, controls=("never", "notyet"),
        pretrend="dCDH placebos", options=()),
)

#: every estimator by code, in the order a study reports them
ESTIMATORS: dict[str, EstimatorInfo] = {info.name: info for info in _ALL}
#: codes ``design_effect`` accepts, in its reporting order
STUDY_ESTIMATORS: tuple[str, ...] = tuple(ESTIMATORS)
#: estimators that need an absorbing treatment (first adoption)
ABSORBING: tuple[str, ...] = tuple(n for n, i in ESTIMATORS.items() if i.treatment == "absorbing")
#: estimators robust to heterogeneous effects across cohorts and time
ROBUST: tuple[str, ...] = tuple(n for n, i in ESTIMATORS.items() if i.heterogeneity_robust)
#: the cost stage's estimators in its order: the headline (cs) first, TWFE (contrast only) last
COST_ESTIMATORS: tuple[str, ...] = ("cs", "sa", "imputation", "twfe")


#: case-study estimators (one municipality, or a few adopting together, against a synthetic twin):
#: not in :data:`ESTIMATORS`, because ``design_effect`` compares many adopters and these do not;
#: the case-study analysis and its report read their labels here
CASE_STUDY_ESTIMATORS: dict[str, EstimatorInfo] = {info.name: info for info in (
    EstimatorInfo(
        name="sdid", label_nl="Synthetische DiD", label_en="Synthetic DiD",
        citation="Arkhangelsky, Athey, Hirshberg, Imbens & Wager (2021)",
        identifies="the average effect on the treated unit(s) after adoption, against donors weighted to move "
                   "in parallel before it (unit and time weights)",
        treatment="absorbing", heterogeneity_robust=True, controls=("never",),
        pretrend="pre-period RMSPE of the twin and in-space placebos",
        options=("se_method", "n_draws", "max_pre_rmspe")),
    EstimatorInfo(
        name="sc", label_nl="Synthetische controle", label_en="Synthetic control",
        citation="Abadie, Diamond & Hainmueller (2010)",
        identifies="the average post-adoption gap between the treated unit and a convex combination of donors "
                   "matching its pre-period outcomes and predictors",
        treatment="absorbing", heterogeneity_robust=True, controls=("never",),
        pretrend="pre-period RMSPE of the twin and the in-space placebo RMSPE-ratio test",
        options=("predictors", "outcome_periods", "v", "max_pre_rmspe")),
)}


def estimator_info(name: str) -> EstimatorInfo:
    """The entry of ``name``; :class:`~effectmeting.errors.OptionError` (reason
    ``"unknown_estimator"``) listing the known codes otherwise."""
    try:
        return ESTIMATORS[name]
    except (KeyError, TypeError):
        raise OptionError(f"estimator={name!r} is unknown; use one of {', '.join(ESTIMATORS)}",
                          reason="unknown_estimator") from None

