"""Results of :func:`effectmeting.fepois`: coefficients on the log scale, covariance, fit facts."""
from __future__ import annotations

import numpy as np
import pandas as pd

from effectmeting.estimate.core.covariance import Covariance
from effectmeting.estimate.core.results import Results, p_values

#: the fit facts ``glance()`` adds, in this order
FIT_FACTS = ("deviance", "loglik", "pseudo_r2", "iterations", "converged", "n_separated")


class FepoisResults(Results):
    """A fitted ``fepois`` (Poisson, PPML) model.

    Attributes: ``coef`` (Series, log scale: ``exp(coef) - 1`` is the relative change of the expected
    outcome), ``vcov`` (DataFrame), ``se``, ``nobs``, ``fitted`` (Series of expected outcomes ``mu`` on
    the rows used), ``resid`` (response residuals ``y - mu``), ``deviance``, ``loglik``,
    ``loglik_null`` (intercept-only Poisson), ``pseudo_r2`` (McFadden, ``1 - loglik/loglik_null``,
    fixest's ``pr2``; NaN with weights), ``iterations``, ``converged``, ``n_dropped_missing``,
    ``n_singletons``, ``n_separated``, ``dropped_collinear``, ``fixed_effects``, ``vcov_type``,
    ``notes``.  Inference is normal (``df`` is None), as fixest's and pyfixest's for GLMs.
    """

    estimator = "fepois"

    def __init__(self, *, formula: str, coef: np.ndarray, vcov: Covariance, names: list[str], nobs: int,
                 fitted: pd.Series, outcome: np.ndarray, fixed_effects: list[str], cluster: list[str],
                 weights: str | None, offset: str | None, n_dropped_missing: int, n_singletons: int,
                 n_separated: int, dropped_collinear: list[str], notes: list[str], iterations: int,
                 converged: bool, deviance: float, loglik: float, loglik_null: float) -> None:
        super().__init__()
        self.formula = formula
        self.title = f"Poisson (PPML): {formula}"
        self.coef = pd.Series(coef, index=names, name="estimate")
        self.vcov = pd.DataFrame(vcov.matrix, index=names, columns=names)
        self.se = pd.Series(np.sqrt(np.diag(vcov.matrix)), index=names, name="std_error")
        self.nobs = nobs
        self.fitted = fitted
        self.resid = pd.Series(outcome - fitted.to_numpy(), index=fitted.index, name="resid")
        self.df = None  # normal inference
        self.df_k = vcov.df_k
        self.fixed_effects = list(fixed_effects)
        self.cluster = list(cluster)
        self.weights = weights
        self.offset = offset
        self.n_clusters = vcov.n_clusters or None
        self.vcov_type = vcov.description if not cluster else f"{vcov.description}: {', '.join(cluster)}"
        self.n_dropped_missing = n_dropped_missing
        self.n_singletons = n_singletons
        self.n_separated = n_separated
        self.dropped_collinear = list(dropped_collinear)
        self.iterations = iterations
        self.converged = converged
        self.deviance = deviance
        self.loglik = loglik
        self.loglik_null = loglik_null
        self.pseudo_r2 = 1.0 - loglik / loglik_null if np.isfinite(loglik_null) and loglik_null != 0 else np.nan
        self.options = {"vcov": self.vcov_type, "fixed_effects": list(fixed_effects), "weights": weights,
                        "offset": offset, "n_dropped_missing": n_dropped_missing, "n_singletons": n_singletons,
                        "dropped_collinear": list(dropped_collinear)}
        self.notes = list(notes)
        self.notes.append(f"Standard errors: {self.vcov_type} (fixest default small-sample correction); "
                          "normal (z) inference. Coefficients are on the log scale.")

    @property
    def tstat(self) -> pd.Series:
        """z statistics (named ``tstat`` as feols's accessor)."""
        return (self.coef / self.se).rename("statistic")

    @property
    def pvalue(self) -> pd.Series:
        return pd.Series(p_values(self.tstat), index=self.coef.index, name="p_value")

    def _coefficients(self) -> pd.DataFrame:
        return pd.DataFrame({"term": self.coef.index, "estimate": self.coef.to_numpy(),
                             "std_error": self.se.to_numpy()})

    def glance(self) -> pd.DataFrame:
        """The results contract's model facts plus :data:`FIT_FACTS` (deviance, log-likelihood,
        McFadden pseudo R², IRLS iterations, convergence, observations dropped by separation)."""
        facts = super().glance()
        for name in FIT_FACTS:
            facts[name] = getattr(self, name)
        return facts

    def summary(self, digits: int = 4) -> str:
        lines = [super().summary(digits)]
        if self.fixed_effects:
            lines.append(f"Fixed effects: {', '.join(self.fixed_effects)}")
        dropped = [f"{count:,} {what}" for count, what in ((self.n_dropped_missing, "with missing values"),
                                                            (self.n_singletons, "singletons"),
                                                            (self.n_separated, "separated")) if count]
        if dropped:
            lines.append(f"Observations dropped: {', '.join(dropped)}")
        lines.append(f"Deviance: {self.deviance:.{digits}f}, log-likelihood: {self.loglik:.{digits}f}, "
                     f"pseudo R2: {self.pseudo_r2:.{digits}f}; IRLS iterations: {self.iterations}"
                     f"{'' if self.converged else ' (not converged)'}")
        return "\n".join(lines)
