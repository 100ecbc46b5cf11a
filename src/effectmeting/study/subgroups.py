"""Effects by subgroup (``by=``) and a test that they are equal.

A municipality belongs to the subgroup of its ``by`` value in its first observed year (see
:func:`effectmeting.study.spec.baseline_values`), so subgroups are disjoint sets of
municipalities.  Each subgroup is estimated on its own (its own never-treated comparison
municipalities), which makes the subgroup estimates independent: with clustering by
municipality no municipality contributes to two of them.

Equality test: with ``b_1..b_G`` and variances ``v_1..v_G`` of the estimable subgroups, the
differences ``d = (b_2 - b_1, ..., b_G - b_1)`` have covariance ``V = diag(v_2..v_G) + v_1 11'``
(independence); ``W = d' V^-1 d`` is chi-square with ``G - 1`` df under H0 (all equal).  This
equals ``sum_g (b_g - b_bar)^2 / v_g`` with ``b_bar`` the precision-weighted mean.

A subgroup without never-treated municipalities (with ``control="never"``) is reported as not
estimable with that reason; so is one where an estimator refuses (its message is the reason).
Subgroups with fewer than :data:`MIN_CLUSTERS` municipalities get a note: cluster-robust
standard errors are unreliable with few clusters; use ``effectmeting.wild_cluster_bootstrap``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from effectmeting.errors import EffectmetingError
from effectmeting.estimate.core.results import chi2_sf
from effectmeting.study import estimators
from effectmeting.study.spec import baseline_values

MIN_CLUSTERS = 50
SUBGROUP_COLUMNS = ["outcome", "estimator", "by", "value", "estimate", "std_error", "conf_low", "conf_high",
                    "p_value", "n_units", "estimable", "reason"]
TEST_COLUMNS = ["outcome", "estimator", "by", "statistic", "df", "p_value", "n_subgroups", "note"]


def equality_test(estimates, variances) -> tuple[float, int, float]:
    """Wald test that independent estimates are equal: ``(statistic, df, p_value)``."""
    b = np.asarray(estimates, dtype=float)
    v = np.asarray(variances, dtype=float)
    if len(b) < 2:
        return np.nan, 0, np.nan
    d = b[1:] - b[0]
    cov = np.diag(v[1:]) + v[0]
    statistic = float(d @ np.linalg.solve(cov, d))
    df = len(b) - 1
    return statistic, df, float(chi2_sf(statistic, df))


def subgroup_estimates(frame: pd.DataFrame, outcome: str, estimator: str, by: str, *, control: str,
                       covariates: list[str], time_varying: list[str], by_year: int | None = None,
                       seed: int = 0) -> tuple[pd.DataFrame, dict, list[str]]:
    """Per ``by`` value: the overall effect (a row, estimable or not) and the equality test.

    ``by_year``: the year whose value places a municipality (default its first observed year)."""
    membership = baseline_values(frame, by, by_year)
    notes: list[str] = []
    missing = membership.index[membership.isna()]
    if len(missing):
        notes.append(f"{outcome}, {estimator}, by={by}: {len(missing)} municipalities without a {by} value in "
                     f"{by_year or 'their first year'} are left out of the subgroup estimates")
    membership = membership.dropna()
    if isinstance(membership.dtype, pd.CategoricalDtype):  # the categories' own order (e.g. size classes)
        values = [v for v in membership.cat.categories if (membership == v).any()]
    else:
        values = sorted(membership.unique().tolist(), key=str)
    rows = []
    for value in values:  # a handful of subgroups
        units = membership.index[membership == value]
        part = frame.loc[frame["municipality"].isin(units)]
        n = int(len(units))
        row = {"outcome": outcome, "estimator": estimator, "by": by, "value": str(value), "n_units": n,
               "estimate": np.nan, "std_error": np.nan, "conf_low": np.nan, "conf_high": np.nan,
               "p_value": np.nan, "estimable": False, "reason": ""}
        never = part.loc[part["first_adoption_year"] == 0, "municipality"].nunique() if \
            "first_adoption_year" in part else 1
        adopters = part.loc[part["treated"] == 1, "municipality"].nunique()
        if adopters == 0:
            row["reason"] = f"no municipality in {by}={value} adopts the design"
        elif control == "never" and estimator != "dcdh" and never == 0:
            row["reason"] = (f"no never-treated municipality in {by}={value}: the comparison group "
                             "(control='never') is empty; try control='notyet'")
        else:
            try:
                run = estimators.run(estimator, part, outcome, control=control, covariates=covariates,
                                     time_varying=time_varying, seed=seed)
            except EffectmetingError as exc:
                row["reason"] = f"not estimable: {exc}"
            else:
                overall = run.rows.iloc[0]
                row.update(estimate=overall["estimate"], std_error=overall["std_error"],
                           conf_low=overall["conf_low"], conf_high=overall["conf_high"],
                           p_value=overall["p_value"], n_units=int(run.n_units), estimable=True)
                if n < MIN_CLUSTERS:
                    row["reason"] = (f"only {n} municipalities (clusters): cluster-robust SEs are unreliable; "
                                     "check with the wild cluster bootstrap (effectmeting.wild_cluster_bootstrap)")
        rows.append(row)
    table = pd.DataFrame(rows, columns=SUBGROUP_COLUMNS)
    usable = table[table["estimable"] & np.isfinite(table["std_error"])]
    statistic, df, p_value = equality_test(usable["estimate"], usable["std_error"] ** 2)
    dropped = len(table) - len(usable)
    test = {"outcome": outcome, "estimator": estimator, "by": by, "statistic": statistic, "df": df,
            "p_value": p_value, "n_subgroups": len(usable),
            "note": ("Wald chi2 on differences between independent subgroup estimates"
                     + (f"; {dropped} subgroup(s) not estimable and not tested" if dropped else "")
                     + ("; fewer than two estimable subgroups: no test" if len(usable) < 2 else ""))}
    return table, test, notes
