"""Results of :func:`~effectmeting.estimate.panel_models.panel_model.panel_model`: a linearmodels fit
in the package's results contract."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from effectmeting.estimate.core.results import Results

#: linearmodels' R-squared variants, as glance() columns (the name linearmodels gives each)
R_SQUARED = ("rsquared", "rsquared_within", "rsquared_between", "rsquared_overall")


class PanelModelResults(Results):
    """A fitted panel model (random effects, first differences, between, pooled OLS).

    ``coef``, ``se`` (Series), ``vcov`` (DataFrame) and ``fit`` (the linearmodels results object)
    hold what linearmodels estimated, unchanged.  ``df`` is linearmodels' ``df_resid``: its
    p-values and intervals use Student-t with these degrees of freedom (``debiased=True``), and
    so do ``tidy()`` and ``conf_int()``.  ``glance()`` adds the model, the covariance, the
    R-squared variants linearmodels reports (its ``rsquared`` is that of the estimated
    regression: the quasi-demeaned one for random effects, the differenced one for first
    differences) and, for random effects, the variance components and mean ``theta``.
    """

    def __init__(self, fit: Any, *, model: str, label: str, formula: str, unit: str, time: str,
                 vcov: str | dict[str, str], cluster: str | None, weights: str | None, level: float,
                 n_clusters: int | None, n_dropped_missing: int) -> None:
        super().__init__()
        self.fit = fit
        self.model = model
        self.estimator = f"panel_model ({model})"
        self.formula = formula
        self.title = f"{label}: {formula}"
        self.coef = pd.Series(fit.params.to_numpy(), index=list(fit.params.index), name="estimate")
        self.se = pd.Series(fit.std_errors.to_numpy(), index=self.coef.index, name="std_error")
        self.vcov = pd.DataFrame(fit.cov.to_numpy(), index=self.coef.index, columns=self.coef.index)
        self.nobs = int(fit.nobs)
        self.df = float(fit.df_resid)
        self.level = level
        self.n_clusters = n_clusters
        self.vcov_type = "clustered: " + cluster if cluster is not None else str(vcov)
        facts: dict[str, Any] = {"model": model, "vcov": self.vcov_type, "unit": unit, "time": time,
                                 "weights": weights, "n_units": int(fit.entity_info["total"]),
                                 "dof": self.df, "n_dropped_missing": n_dropped_missing}
        facts.update({name: float(getattr(fit, name)) for name in R_SQUARED})
        if model == "random":
            components = fit.variance_decomposition
            facts.update({"sigma2_unit": float(components["Effects"]),
                          "sigma2_idiosyncratic": float(components["Residual"]),
                          "rho": float(components["Percent due to Effects"]),
                          "theta_mean": float(np.mean(np.asarray(fit.theta, dtype=float)))})
        self.options = facts
        self.notes.append(f"Estimated with linearmodels {type(fit.model).__name__}; standard errors "
                          f"{self.vcov_type}, t distribution with {int(self.df):,} df.")

    def _coefficients(self) -> pd.DataFrame:
        return pd.DataFrame({"term": self.coef.index, "estimate": self.coef.to_numpy(),
                             "std_error": self.se.to_numpy()})

    def summary(self, digits: int = 4) -> str:
        facts = self.options
        r2 = ", ".join(f"{name.replace('rsquared', 'R2').replace('_', ' ')} {facts[name]:.{digits}f}"
                       for name in R_SQUARED)
        return "\n".join([super().summary(digits), r2])
