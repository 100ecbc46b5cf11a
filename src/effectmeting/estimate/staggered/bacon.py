"""Goodman-Bacon (2021) decomposition of the two-way fixed-effects DiD coefficient.

With a balanced panel and an absorbing binary treatment ``D_it = 1[t >= cohort_i]``, the TWFE
coefficient of ``y ~ D | unit + period`` equals a weighted average of every 2x2 DiD between
timing groups (Theorem 1):

* ``Treated vs Untreated``: cohort ``k`` against never-treated units, whole window;
* ``Earlier vs Later Treated``: earlier cohort ``k`` against the later cohort ``l`` as control,
  periods before ``l`` adopts;
* ``Later vs Earlier Treated``: later cohort ``l`` against the already-treated earlier cohort
  ``k`` as control, periods from ``k``'s adoption on (the "forbidden" comparison);
* ``Later vs Always Treated``: a cohort against units treated in every observed period.

Weights are the paper's ``s`` (group sizes ``n`` and treated shares ``D-bar``) normalised to
sum to one; the weighted sum of the 2x2 estimates reproduces the TWFE coefficient exactly.
Cohorts adopting after the last observed period count as never treated within the window.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from effectmeting.errors import IdentificationError
from effectmeting.estimate.core.results import Results, key_terms
from effectmeting.estimate.staggered.panel import prepare, twfe_ols

TREATED_VS_UNTREATED = "Treated vs Untreated"
EARLIER_VS_LATER = "Earlier vs Later Treated"
LATER_VS_EARLIER = "Later vs Earlier Treated"
LATER_VS_ALWAYS = "Later vs Always Treated"


class BaconResults(Results):
    """All 2x2 comparisons (``comparisons``) and the TWFE coefficient they add up to
    (``estimate``, the weighted sum; ``twfe_estimate``, the regression coefficient)."""

    title = "Goodman-Bacon decomposition of the TWFE DiD coefficient"
    estimator = "bacon_decomposition"
    #: the comparisons are descriptive: no standard errors, statistics or intervals (NaN)
    KEYS = ("comparison_type", "treated_cohort", "control_cohort")

    def __init__(self, comparisons: pd.DataFrame, twfe_estimate: float, nobs: int) -> None:
        super().__init__()
        self.comparisons = comparisons
        self.estimate = float((comparisons["estimate"] * comparisons["weight"]).sum())
        self.std_error = np.nan  # the decomposition is descriptive
        self.twfe_estimate = float(twfe_estimate)
        self.nobs = nobs
        self.options = {"twfe_estimate": self.twfe_estimate, "comparisons": len(comparisons)}
        self.notes.append(f"Weighted sum of 2x2 estimates {self.estimate:.6f}; TWFE coefficient "
                          f"{self.twfe_estimate:.6f}")

    def _coefficients(self) -> pd.DataFrame:
        table = self.comparisons[[*self.KEYS, "estimate"]].copy()
        table.insert(0, "term", key_terms(table, list(self.KEYS)))
        return table.assign(std_error=np.nan, weight=self.comparisons["weight"].to_numpy())

    def _overall(self) -> tuple[float, float]:
        return self.estimate, self.std_error

    def plot(self, ax=None):
        """Each 2x2 estimate against its weight, one colour per comparison type, with the TWFE
        coefficient as a dashed line (the figure of Goodman-Bacon 2021 / R ``bacondecomp``).
        Returns the matplotlib Figure."""
        from matplotlib.figure import Figure

        if ax is None:
            figure = Figure(figsize=(7, 4))
            ax = figure.subplots()
        else:
            figure = ax.figure
        for colour, (kind, part) in enumerate(self.comparisons.groupby("comparison_type", sort=True)):
            ax.scatter(part["weight"], part["estimate"], color=f"C{colour}", label=kind)
        ax.axhline(self.twfe_estimate, color="black", linestyle="--", linewidth=0.8,
                   label=f"TWFE coefficient {self.twfe_estimate:.3f}")
        ax.set_xlabel("weight")
        ax.set_ylabel("2x2 DiD estimate")
        ax.set_title(self.title)
        ax.legend(frameon=False)
        return figure

    def by_type(self) -> pd.DataFrame:
        """Total weight and weight-averaged estimate per comparison type (as R ``bacondecomp``)."""
        table = self.comparisons.assign(product=self.comparisons["estimate"] * self.comparisons["weight"])
        summary = table.groupby("comparison_type", sort=True).agg(weight=("weight", "sum"),
                                                                   product=("product", "sum"))
        summary["estimate"] = summary["product"] / summary["weight"]
        return summary[["weight", "estimate"]].reset_index()


def _did(means: np.ndarray, treated: int, control: int, window: np.ndarray, post: np.ndarray) -> float:
    """2x2 DiD of group means (groups x periods) inside ``window`` with ``post`` marking after."""
    pre = window & ~post
    after = window & post
    gap = means[treated] - means[control]
    return float(gap[after].mean() - gap[pre].mean())


def bacon_decomposition(data: pd.DataFrame, *, outcome: str, unit: str, time: str, cohort: str) -> BaconResults:
    """Every 2x2 DiD comparison behind the TWFE coefficient, with its weight.

    ``cohort`` is the first treated period (0/NA never treated).  Requires a balanced panel (the
    theorem does not hold otherwise) and at least two timing groups.  ``tidy()`` has columns
    ``comparison_type, treated_cohort, control_cohort, estimate, weight`` (control cohort NaN for
    never-treated, the first period or earlier for always-treated).
    """
    panel = prepare(data, outcome=outcome, unit=unit, time=time, cohort=cohort, who="bacon_decomposition")
    counts = np.bincount(panel.unit_codes, minlength=panel.n_units)
    if counts.min() != panel.n_times:
        short = panel.unit_values[np.isin(panel.unit_codes, np.flatnonzero(counts < panel.n_times))]
        raise IdentificationError(
            f"the Bacon decomposition needs a balanced panel; units {list(dict.fromkeys(short.tolist()))[:5]} "
            f"miss some of the {panel.n_times} periods",
            reason="not_balanced",
        )
    periods = np.sort(np.unique(panel.time))
    first, last = periods[0], periods[-1]
    # Timing groups: never (inf), always (<= first period), or an adoption period inside the window.
    group = np.where(panel.cohort > last, np.inf, np.where(panel.cohort <= first, first, panel.cohort))
    labels, group_codes = np.unique(group, return_inverse=True)
    # groups x periods mean outcome (balanced panel: every cell has all the group's units)
    time_index = np.searchsorted(periods, panel.time)
    sums = np.zeros((labels.size, periods.size))
    np.add.at(sums, (group_codes, time_index), panel.y)
    sizes = np.bincount(group_codes) / panel.n_times
    means = sums / sizes[:, None]
    share_units = sizes / sizes.sum()
    treated_share = np.array([(periods >= g).mean() if np.isfinite(g) else 0.0 for g in labels])
    if labels.size < 2:
        raise IdentificationError("all units share one treatment timing: there is no comparison to decompose")
    if np.all(treated_share == 1.0):
        raise IdentificationError("all units are treated in every period: no DiD comparison exists")

    rows = []
    never = np.flatnonzero(np.isinf(labels))
    timing = [j for j in range(labels.size) if np.isfinite(labels[j])]
    for k in timing:  # loops over timing groups (a handful), not rows
        if never.size and 0 < treated_share[k] < 1:
            u = int(never[0])
            n_ku = share_units[k] / (share_units[k] + share_units[u])
            weight = (share_units[k] + share_units[u]) ** 2 * n_ku * (1 - n_ku) * treated_share[k] * (1 - treated_share[k])
            estimate = _did(means, k, u, np.ones(periods.size, bool), periods >= labels[k])
            rows.append((TREATED_VS_UNTREATED, labels[k], np.nan, estimate, weight))
    for a in timing:
        for b in timing:
            if not treated_share[a] > treated_share[b]:
                continue
            early, late = a, b  # early adopts first (larger treated share)
            n_kl = share_units[early] / (share_units[early] + share_units[late])
            pair = share_units[early] + share_units[late]
            d_k, d_l = treated_share[early], treated_share[late]
            if d_k < 1:  # earlier vs later: window before the later group adopts
                weight = (pair * (1 - d_l)) ** 2 * n_kl * (1 - n_kl) * (d_k - d_l) / (1 - d_l) * (1 - d_k) / (1 - d_l)
                window = periods < labels[late]
                estimate = _did(means, early, late, window, periods >= labels[early])
                rows.append((EARLIER_VS_LATER, labels[early], labels[late], estimate, weight))
            if d_l > 0:  # later vs earlier: window from the earlier group's adoption on
                weight = (pair * d_k) ** 2 * n_kl * (1 - n_kl) * (d_l / d_k) * (d_k - d_l) / d_k
                window = periods >= labels[early]
                estimate = _did(means, late, early, window, periods >= labels[late])
                kind = LATER_VS_ALWAYS if d_k == 1 else LATER_VS_EARLIER
                rows.append((kind, labels[late], labels[early], estimate, weight))
    table = pd.DataFrame(rows, columns=["comparison_type", "treated_cohort", "control_cohort", "estimate", "weight"])
    if table.empty:
        raise IdentificationError("no 2x2 comparison has variation in treatment timing")
    table["weight"] = table["weight"] / table["weight"].sum()

    treatment = panel.treated.astype(float)[:, None]
    coefficient = twfe_ols(panel, treatment, ["treated"]).coef
    return BaconResults(table, coefficient[0], int(panel.y.size))
