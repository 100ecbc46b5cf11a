"""Results of :func:`effectmeting.feols`: coefficients, covariance, tests, notes."""
from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import numpy as np
import pandas as pd

from effectmeting.estimate.core.covariance import Covariance
from effectmeting.estimate.core.results import TIDY_COLUMNS, Results, p_values  # noqa: F401 (re-exported)


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

    def summary(self, digits: int = 4) -> str:
        lines = [super().summary(digits)]
        if self.fixed_effects:
            lines.append(f"Fixed effects: {', '.join(self.fixed_effects)}")
        return "\n".join(lines)
