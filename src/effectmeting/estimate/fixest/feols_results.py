"""Results of :func:`effectmeting.feols`: coefficients, covariance, tests, notes."""
from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import numpy as np
import pandas as pd

from effectmeting.estimate.core.covariance import Covariance
from effectmeting.estimate.core.results import TIDY_COLUMNS, Results, p_values  # noqa: F401 (re-exported)


#: the fit statistics of :func:`fit_statistics`, in the order ``glance()`` shows them
FIT_STATISTICS = ("r2", "adj_r2", "r2_within", "adj_r2_within")


def total_sum_of_squares(y: np.ndarray, weights: np.ndarray | None) -> float:
    """(Weighted) sum of squared deviations of the raw outcome ``y`` from its (weighted) mean."""
    if weights is None:
        deviation = y - y.mean()
        return float(deviation @ deviation)
    deviation = y - np.average(y, weights=weights)
    return float(weights @ (deviation * deviation))


def fit_statistics(*, ssr: float, total: float, within_total: float | None, n: int, k: int,
                   fe_sizes: Sequence[int]) -> dict[str, float]:
    """R², adjusted R², within R² and within adjusted R² as pyfixest 0.60 (``_r2``, ``_adj_r2``,
    ``_r2_within``, ``_adj_r2_within``) and fixest compute them.

    ``ssr``: (weighted) sum of squared residuals; ``total``: (weighted) sum of squares of the
    outcome around its (weighted) mean; ``within_total``: (weighted) sum of squares of the outcome
    after sweeping out the fixed effects (None without fixed effects: the within statistics are
    NaN); ``n``: observations used; ``k``: regressors kept (intercept included); ``fe_sizes``:
    levels of each fixed effect, counted as ``n_fe = sum(levels - 1) + 1`` parameters (no
    nesting adjustment, unlike clustered standard errors).

    R² = 1 - ssr/total; adjusted R² = 1 - ssr/total * (n - 1)/(n - k - n_fe); within R² =
    1 - ssr/within_total; within adjusted R² = 1 - ssr/within_total * (n - n_fe)/(n - k - n_fe).
    As pyfixest, the total is centred and ``n - 1`` is used even for a model without intercept.
    """
    n_fe = sum(size - 1 for size in fe_sizes) + 1 if fe_sizes else 0
    residual_df = n - k - n_fe
    ratio = ssr / total if total > 0 else np.nan
    stats = {"r2": 1.0 - ratio, "adj_r2": 1.0 - ratio * (n - 1) / residual_df,
             "r2_within": np.nan, "adj_r2_within": np.nan}
    if within_total is not None:
        within = ssr / within_total if within_total > 0 else np.nan
        stats["r2_within"] = 1.0 - within
        stats["adj_r2_within"] = 1.0 - within * (n - n_fe) / residual_df
    return stats


class FeolsResults(Results):
    """A fitted ``feols`` model.

    Attributes: ``coef`` (Series), ``vcov`` (DataFrame), ``se``, ``nobs``, ``resid`` (Series
    on the rows used), ``dof`` (t-distribution degrees of freedom: ``n - df_k`` for iid/hc1,
    ``G - 1`` for clustered), ``df_k``, ``n_dropped_missing``, ``n_singletons``,
    ``dropped_collinear``, ``fixed_effects``, ``vcov_type``, ``notes``.  ``tidy()``,
    ``conf_int()``, ``glance()`` follow the results contract (Student-t with ``dof`` df);
    ``coef``, ``se``, ``tstat`` and ``pvalue`` stay as Series accessors.
    """

    estimator = "feols"

    def __init__(self, *, formula: str, coef: np.ndarray, vcov: Covariance, names: list[str],
                 nobs: int, resid: pd.Series, fixed_effects: list[str], cluster: list[str],
                 weights: str | None, n_dropped_missing: int, n_singletons: int,
                 dropped_collinear: list[str], notes: list[str], transformed: Any) -> None:
        super().__init__()
        self.formula = formula
        self.title = f"OLS: {formula}"
        self.coef = pd.Series(coef, index=names, name="estimate")
        self.vcov = pd.DataFrame(vcov.matrix, index=names, columns=names)
        self.se = pd.Series(np.sqrt(np.diag(vcov.matrix)), index=names, name="std_error")
        self.nobs = nobs
        self.resid = resid
        self.dof = vcov.df_t
        self.df = self.dof
        self.df_k = vcov.df_k
        self.fixed_effects = fixed_effects
        self.cluster = cluster
        self.weights = weights
        self.n_clusters = vcov.n_clusters
        self.vcov_type = vcov.description if not cluster else f"{vcov.description}: {', '.join(cluster)}"
        self.n_dropped_missing = n_dropped_missing
        self.n_singletons = n_singletons
        self.dropped_collinear = dropped_collinear
        self._transformed = transformed
        #: R², adjusted R², within R², within adjusted R² (:func:`fit_statistics`; set by feols)
        self.fit_stats: dict[str, float] = dict.fromkeys(FIT_STATISTICS, np.nan)
        self.options = {"vcov": self.vcov_type, "fixed_effects": list(fixed_effects), "weights": weights,
                        "dof": self.dof, "n_dropped_missing": n_dropped_missing, "n_singletons": n_singletons,
                        "dropped_collinear": list(dropped_collinear)}
        self.notes = list(notes)
        self.notes.append(f"Standard errors: {self.vcov_type}; t distribution with {self.dof:,} df "
                          "(fixest default small-sample correction).")

    @property
    def tstat(self) -> pd.Series:
        return (self.coef / self.se).rename("statistic")

    @property
    def pvalue(self) -> pd.Series:
        return pd.Series(p_values(self.tstat, self.dof), index=self.coef.index, name="p_value")

    def _coefficients(self) -> pd.DataFrame:
        return pd.DataFrame({"term": self.coef.index, "estimate": self.coef.to_numpy(),
                             "std_error": self.se.to_numpy()})

    def wald_test(self, terms: Sequence[str] | np.ndarray, q: Sequence[float] | float | None = None,
                  ) -> pd.Series:
        """Joint test of ``R @ coef = q``: F statistic with (J, dof) df and its p-value.

        ``terms`` is a list of term names (tests that all are ``q``, default 0) or a restriction
        matrix ``R`` with one column per coefficient.
        """
        if isinstance(terms, np.ndarray) and terms.dtype.kind in "fi":
            restriction = np.atleast_2d(terms).astype(float)
        else:
            unknown = [t for t in terms if t not in self.coef.index]
            if unknown:
                raise KeyError(f"terms not in the model: {unknown}; terms are {list(self.coef.index)}")
            restriction = np.zeros((len(terms), len(self.coef)))
            for row, term in enumerate(terms):
                restriction[row, self.coef.index.get_loc(term)] = 1.0
        if restriction.shape[1] != len(self.coef):
            raise ValueError(f"R has {restriction.shape[1]} columns; the model has {len(self.coef)}")
        target = np.zeros(restriction.shape[0]) if q is None else np.broadcast_to(
            np.asarray(q, dtype=float), (restriction.shape[0],))
        gap = restriction @ self.coef.to_numpy() - target
        middle = restriction @ self.vcov.to_numpy() @ restriction.T
        restrictions = restriction.shape[0]
        statistic = float(gap @ np.linalg.solve(middle, gap)) / restrictions
        from scipy import stats  # imported here: scipy.stats takes ~0.8 s to import and most runs never reach this
        return pd.Series({"statistic": statistic, "p_value": float(stats.f.sf(statistic, restrictions, self.dof)),
                          "df1": restrictions, "df2": self.dof})

    def glance(self) -> pd.DataFrame:
        """The results contract's model facts plus ``r2``, ``adj_r2``, ``r2_within`` and
        ``adj_r2_within`` (NaN without fixed effects)."""
        facts = super().glance()
        for name in FIT_STATISTICS:
            facts[name] = self.fit_stats[name]
        return facts

    def summary(self, digits: int = 4) -> str:
        lines = [super().summary(digits)]
        if self.fixed_effects:
            lines.append(f"Fixed effects: {', '.join(self.fixed_effects)}")
        stats = self.fit_stats
        fit = f"R2: {stats['r2']:.{digits}f}, adjusted R2: {stats['adj_r2']:.{digits}f}"
        if np.isfinite(stats["r2_within"]):
            fit += (f"; within R2: {stats['r2_within']:.{digits}f}, "
                    f"within adjusted R2: {stats['adj_r2_within']:.{digits}f}")
        lines.append(fit)
        return "\n".join(lines)
