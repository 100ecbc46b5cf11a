"""Minimum detectable effect (MDE) of a staggered-adoption study, by placebo simulation on real data.

For a planned study with ``n_adopters`` municipalities adopting a design: draw placebo adopters
at random from the panel's municipalities, give them adoption years drawn like real ones, and
estimate the Callaway & Sant'Anna simple ATT on the *actual* outcome, where the placebo has no
effect.  Repeating this ``n_draws`` times gives the null distribution of estimates and of their
analytic standard errors on data with the panel's real noise, trends and serial correlation.

* ``se``  = mean analytic SE over the placebo draws;
* ``mde`` = (z_{1-alpha/2} + z_{power}) x se  (two-sided test at level ``alpha``);
* ``placebo_rejection_rate`` = share of placebo draws with |estimate / SE| > z_{1-alpha/2}
  (should be close to ``alpha`` if the inference is right for this panel);
* ``rejection_rate_at_mde``: the check — the same placebo draws with an effect of size ``mde``
  added to the adopters' outcome from adoption on, re-estimated; should be close to ``power``.

Real adopters of any design stay in the pool of municipalities (their real effects are part of
the noise a study faces).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from effectmeting.costs.estimators import check_options, overall_with_se
from effectmeting.costs.treatment import COHORT, estimation_frame
from effectmeting.errors import OptionError
from effectmeting.estimate.callaway_santanna.att_gt import att_gt
from effectmeting.estimate.core.arguments import renamed_arguments, resolve_seed
from effectmeting.estimate.core.results import Results
from effectmeting.harmonise.panel import KEY_COLUMNS, Panel
from effectmeting.progress import progress as progress_bar

TIDY_COLUMNS = ["outcome", "n_adopters", "years", "mde", "se", "rejection_rate_at_mde",
                "placebo_rejection_rate", "placebo_sd", "reps"]


class PowerResults(Results):
    """MDE per number of adopters: ``tidy()`` has one row per ``n_adopters``."""

    def __init__(self, table: pd.DataFrame, estimates: dict, notes: list[str]) -> None:
        super().__init__()
        self.table = table
        #: n_adopters -> DataFrame of placebo draws (estimate, std_error, estimate_at_mde, std_error_at_mde)
        self.draws = estimates
        self.title = "Minimum detectable effect by placebo simulation"
        self.notes.extend(notes)

    def tidy(self, level: float | None = None) -> pd.DataFrame:
        """One row per ``n_adopters``; ``level`` (the common contract's) is unused: an MDE has no interval."""
        return self.table[TIDY_COLUMNS].copy()


def _adoption_pool(panel: Panel, adoption_years, first_year: int, last_year: int) -> np.ndarray:
    """Adoption years to draw from (with replacement): all years with a pre- and a post-period by default."""
    if adoption_years is None:
        return np.arange(first_year + 1, last_year + 1)
    if isinstance(adoption_years, str):
        cohorts = estimation_frame(panel, adoption_years, []).data.groupby("municipality")[COHORT].first()
        pool = cohorts[(cohorts > first_year) & (cohorts <= last_year)].to_numpy()
        if len(pool) == 0:
            raise OptionError(f"minimum_detectable_effect: {adoption_years} has no adopters in "
                              f"{first_year + 1}-{last_year}")
        return np.sort(pool.astype(int))
    pool = np.asarray(list(adoption_years), dtype=int)
    bad = pool[(pool <= first_year) | (pool > last_year)]
    if len(pool) == 0 or len(bad):
        raise OptionError(f"minimum_detectable_effect: adoption_years {sorted(set(bad.tolist()))} fall outside "
                          f"{first_year + 1}-{last_year} (an adopter needs a year before adoption)")
    return pool


@renamed_arguments(reps="n_draws")
def minimum_detectable_effect(panel: Panel, *, outcome: str, n_adopters: int | Sequence[int],
                              first_year: int | None = None, last_year: int | None = None,
                              adoption_years: Sequence[int] | str | None = None, estimator: str = "cs",
                              control: str = "never", n_draws: int = 200, alpha: float = 0.05, power: float = 0.8,
                              seed: int | None = None, progress: bool | None = None) -> PowerResults:
    """Minimum detectable effect on ``outcome`` (its own units, e.g. per 1,000 youth) for ``n_adopters``.

    ``first_year``/``last_year``: the study window (default: the panel's years).
    ``adoption_years``: where placebo adoption years come from — None: uniform over
    ``first_year + 1 .. last_year``; a list of years: drawn from it with replacement (its empirical
    distribution); a design ``"dimension=value"``: the empirical distribution of that design's
    first adoption years among its adopters.  ``n_adopters``: one number or several (one row each).
    Municipalities with a missing outcome in the window are left out (noted).  ``estimator``:
    ``"cs"`` (Callaway & Sant'Anna simple ATT), ``"sa"`` (Sun & Abraham; never-treated control),
    ``"imputation"`` (Borusyak, Jaravel & Spiess) or ``"twfe"`` (static two-way fixed effects),
    each with its analytic SE clustered by municipality.  Takes about 2 x ``n_draws`` estimations
    per ``n_adopters`` (on 342 municipalities x 10 years about 40 ms each with cs, 10-15 ms with
    sa, imputation or twfe).  ``n_draws``: placebo assignments per ``n_adopters`` (deprecated name
    ``reps``); ``seed`` seeds them, None means :data:`~effectmeting.defaults.DEFAULT_SEED`.
    ``progress``: True draws a progress bar on stderr (None: only when the command line switched
    bars on; see :mod:`effectmeting.progress`).
    """
    option_notes = check_options(estimator, "minimum_detectable_effect", control=control)
    seed = resolve_seed(seed)
    if not (0 < alpha < 1 and 0 < power < 1):
        raise OptionError(f"minimum_detectable_effect: alpha={alpha}, power={power} must be in (0, 1)")
    if n_draws < 10:
        raise OptionError(f"minimum_detectable_effect: n_draws={n_draws}; use at least 10 (200 recommended)")
    if outcome not in panel.data.columns:
        raise OptionError(f"minimum_detectable_effect: {outcome!r} is not a panel column", reason="unknown_column")
    years = panel.data["year"]
    first_year = int(years.min()) if first_year is None else int(first_year)
    last_year = int(years.max()) if last_year is None else int(last_year)
    if last_year - first_year < 1:
        raise OptionError(f"minimum_detectable_effect: window {first_year}-{last_year} needs two years or more")
    data = panel.data.loc[years.between(first_year, last_year), [*KEY_COLUMNS, outcome]]
    incomplete = data.loc[data[outcome].isna(), "municipality"].unique()
    counts = data.groupby("municipality")["year"].count()
    incomplete = np.union1d(incomplete, counts.index[counts < last_year - first_year + 1])
    data = data[~data["municipality"].isin(incomplete)].sort_values(KEY_COLUMNS).reset_index(drop=True)
    units = np.sort(data["municipality"].unique())
    pool = _adoption_pool(panel, adoption_years, first_year, last_year)
    sizes = [int(n) for n in np.atleast_1d(n_adopters)]  # one number or several
    never_needed = 1 if control == "never" else 0
    for n in sizes:
        if n < 2 or n > len(units) - max(never_needed, 2):
            raise OptionError(f"minimum_detectable_effect: n_adopters={n}; use 2..{len(units) - 2} "
                              f"({len(units)} municipalities with a complete {outcome})")
    z_alpha, z_power = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    unit_index = pd.factorize(data["municipality"], sort=True)[0]
    year_values = data["year"].to_numpy()
    rows, draws = [], {}
    for n in sizes:
        rng = np.random.default_rng([seed, n])
        cohorts = np.zeros((n_draws, len(units)))
        for rep in range(n_draws):  # the assignments; estimation below
            chosen = rng.choice(len(units), n, replace=False)
            cohorts[rep, chosen] = rng.choice(pool, n, replace=True)
        placebo = np.array([_estimate(data, outcome, cohorts[r], unit_index, control, estimator)
                            for r in progress_bar(range(n_draws), desc=f"MDE placebo draws, {n} adopters",
                                                  unit="draw", enabled=progress)])
        se = float(np.nanmean(placebo[:, 1]))
        mde = (z_alpha + z_power) * se
        injected_rows = []
        # the check: add an effect of size mde from adoption on
        for r in progress_bar(range(n_draws), desc=f"MDE check draws, {n} adopters", unit="draw", enabled=progress):
            row_cohort = cohorts[r][unit_index]
            effect = np.where((row_cohort > 0) & (year_values >= row_cohort), mde, 0.0)
            injected_rows.append(_estimate(data.assign(**{outcome: data[outcome] + effect}), outcome, cohorts[r],
                                      unit_index, control, estimator))
        injected = np.array(injected_rows)
        rows.append({"outcome": outcome, "n_adopters": n, "years": f"{first_year}-{last_year}", "mde": mde, "se": se,
                     "rejection_rate_at_mde": float(np.mean(np.abs(injected[:, 0] / injected[:, 1]) > z_alpha)),
                     "placebo_rejection_rate": float(np.mean(np.abs(placebo[:, 0] / placebo[:, 1]) > z_alpha)),
                     "placebo_sd": float(np.std(placebo[:, 0], ddof=1)), "reps": n_draws})
        draws[n] = pd.DataFrame({"estimate": placebo[:, 0], "std_error": placebo[:, 1],
                                 "estimate_at_mde": injected[:, 0], "std_error_at_mde": injected[:, 1]})
    notes = [f"Placebo simulation: {n_draws} draws per row (seed {seed}); adopters drawn at random from {len(units)} "
             f"municipalities, adoption years from {_describe_pool(adoption_years, pool)}; {_LABELS[estimator]}"
             + (f", {control}-treated comparison" if estimator in ("cs", "sa") else "") + ", analytic SEs.",
             f"MDE = (z_{{1-alpha/2}} + z_power) x mean placebo SE with alpha = {alpha}, power = {power}; "
             "rejection_rate_at_mde re-estimates the same draws with an effect of size MDE added from adoption on.",
             f"Unit: the unit of {outcome}.", *option_notes]
    if len(incomplete):
        notes.append(f"{len(incomplete)} municipality(ies) without a complete {outcome} in {first_year}-{last_year} "
                     "left out.")
    return PowerResults(pd.DataFrame(rows, columns=TIDY_COLUMNS), draws, notes)


_LABELS = {"cs": "CS simple ATT", "sa": "Sun-Abraham overall ATT", "imputation": "imputation overall ATT",
           "twfe": "static TWFE coefficient"}


def _estimate(data: pd.DataFrame, outcome: str, unit_cohort: np.ndarray, unit_index: np.ndarray, control: str,
              estimator: str) -> tuple[float, float]:
    """Overall effect and its analytic SE with the given cohort per unit (``data`` sorted by unit, year)."""
    if estimator != "cs":
        periods = np.unique(data["year"].to_numpy())
        values = data[outcome].to_numpy(float).reshape(-1, len(periods))
        return overall_with_se(unit_cohort, periods, values, estimator)
    fit = att_gt(data.assign(**{COHORT: unit_cohort[unit_index]}), outcome=outcome, unit="municipality",
                 time="year", cohort=COHORT, control=control)
    simple = fit.aggregate("simple")
    return simple.estimate, simple.std_error


def _describe_pool(adoption_years, pool: np.ndarray) -> str:
    if adoption_years is None:
        return f"uniform over {pool.min()}-{pool.max()}"
    label = adoption_years if isinstance(adoption_years, str) else "the given list"
    values, counts = np.unique(pool, return_counts=True)
    return f"{label} ({', '.join(f'{v}: {c}' for v, c in zip(values, counts))})"
