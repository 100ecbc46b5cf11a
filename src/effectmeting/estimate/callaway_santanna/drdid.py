"""Two-group, two-period (2x2) DiD building blocks for panel data, with influence functions.

These are array ports of Sant'Anna & Zhao (2020) as implemented in R ``DRDID`` and used by R
``did::att_gt``:

* ``dr``  -> ``DRDID::drdid_panel`` (the "traditional"/locally efficient doubly-robust estimator
  with a logit propensity score and a weighted-OLS outcome regression on the controls; this is
  the one R ``did`` calls for ``est_method = "dr"``, not the "improved" ``drdid_imp_panel``);
* ``ipw`` -> ``DRDID::std_ipw_did_panel`` (normalised/Hajek inverse probability weighting);
* ``reg`` -> ``DRDID::reg_did_panel`` (outcome regression, Heckman et al. 1997).

Every function takes one unit per row: ``delta_y`` = outcome change (post minus base period),
``treated`` = 1 for the cohort, 0 for its comparison units, ``design`` = covariates *with* an
intercept column, ``weights`` = sampling weights (normalised to mean one here, as DRDID does).
It returns the ATT and its influence function (one value per row, scaled so that
``var(att) = mean(inf**2) / n_rows``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from effectmeting.errors import IdentificationError

#: control units with a propensity score at or above this level are trimmed (DRDID default)
PSCORE_TRIM_LEVEL = 0.995


@dataclass(frozen=True)
class PropensityFit:
    """A fitted logit propensity score: fitted probabilities and the score's linear representation."""

    pscore: np.ndarray          # P(treated | X), clipped at 1 - 1e-6 as DRDID does
    influence: np.ndarray       # n x k asymptotic linear representation of the logit coefficients


def fit_logit(treated: np.ndarray, design: np.ndarray, weights: np.ndarray,
              max_iter: int = 50, tol: float = 1e-12) -> PropensityFit:
    """Weighted logit by Newton-Raphson (same fixed point as R ``glm(family = binomial)``).

    The design is small (k columns), so each iteration costs O(n k^2) array work.
    """
    n, k = design.shape
    beta = np.zeros(k)
    for _ in range(max_iter):
        prob = 1.0 / (1.0 + np.exp(-(design @ beta)))
        gradient = design.T @ (weights * (treated - prob))
        hessian = (design * (weights * prob * (1.0 - prob))[:, None]).T @ design
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError as exc:
            raise IdentificationError(
                "The propensity-score logit is singular (a covariate is constant or perfectly "
                "collinear within a cohort-versus-control comparison); drop that covariate.",
                reason="collinear",
            ) from exc
        beta = beta + step
        if np.max(np.abs(step)) < tol * (1.0 + np.max(np.abs(beta))):
            break
    prob = 1.0 / (1.0 + np.exp(-(design @ beta)))
    hessian = (design * (weights * prob * (1.0 - prob))[:, None]).T @ design / n
    score = (weights * (treated - prob))[:, None] * design
    influence = score @ np.linalg.inv(hessian)
    return PropensityFit(pscore=np.minimum(prob, 1.0 - 1e-6), influence=influence)


def _control_regression(delta_y: np.ndarray, treated: np.ndarray, design: np.ndarray,
                        weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted OLS of ``delta_y`` on ``design`` among controls: fitted values for all rows and
    the coefficients' asymptotic linear representation (n x k)."""
    n = len(delta_y)
    control_weights = weights * (1.0 - treated)
    weighted_design = design * control_weights[:, None]
    gram = weighted_design.T @ design
    try:
        coef = np.linalg.solve(gram, weighted_design.T @ delta_y)
    except np.linalg.LinAlgError as exc:
        raise IdentificationError(
            "The outcome regression on the comparison units is singular (a covariate is constant "
            "or collinear among them); drop that covariate or use method='ipw'.",
            reason="collinear",
        ) from exc
    fitted = design @ coef
    residual_score = weighted_design * (delta_y - fitted)[:, None]
    return fitted, residual_score @ np.linalg.inv(gram / n)


def _normalise(weights: np.ndarray) -> np.ndarray:
    return weights / weights.mean()


def drdid_panel(delta_y: np.ndarray, treated: np.ndarray, design: np.ndarray,
                weights: np.ndarray, pscore_fit: PropensityFit | None = None) -> tuple[float, np.ndarray]:
    """Locally efficient doubly-robust DiD ATT (DRDID ``drdid_panel``) and its influence function.

    ``pscore_fit`` may be passed in to reuse a logit fitted on the same rows and design.
    """
    weights = _normalise(weights)
    fit = pscore_fit if pscore_fit is not None else fit_logit(treated, design, weights)
    ps = fit.pscore
    keep = np.where(treated == 1, ps < 1.01, ps < PSCORE_TRIM_LEVEL)
    fitted, ols_influence = _control_regression(delta_y, treated, design, weights)

    w_treat = keep * weights * treated
    w_cont = keep * weights * ps * (1.0 - treated) / (1.0 - ps)
    residual = delta_y - fitted
    att_treat = w_treat * residual
    att_cont = w_cont * residual
    eta_treat = att_treat.mean() / w_treat.mean()
    eta_cont = att_cont.mean() / w_cont.mean()

    inf_treat = (att_treat - w_treat * eta_treat
                 - ols_influence @ (w_treat[:, None] * design).mean(axis=0)) / w_treat.mean()
    ps_term = fit.influence @ ((w_cont * (residual - eta_cont))[:, None] * design).mean(axis=0)
    ols_term = ols_influence @ (w_cont[:, None] * design).mean(axis=0)
    inf_cont = (att_cont - w_cont * eta_cont + ps_term - ols_term) / w_cont.mean()
    return float(eta_treat - eta_cont), inf_treat - inf_cont


def ipw_did_panel(delta_y: np.ndarray, treated: np.ndarray, design: np.ndarray,
                  weights: np.ndarray, pscore_fit: PropensityFit | None = None) -> tuple[float, np.ndarray]:
    """Normalised (Hajek) IPW DiD ATT (DRDID ``std_ipw_did_panel``) and its influence function."""
    weights = _normalise(weights)
    fit = pscore_fit if pscore_fit is not None else fit_logit(treated, design, weights)
    ps = fit.pscore
    keep = np.where(treated == 1, ps < 1.01, ps < PSCORE_TRIM_LEVEL)
    w_treat = keep * weights * treated
    w_cont = keep * weights * ps * (1.0 - treated) / (1.0 - ps)
    att_treat = w_treat * delta_y
    att_cont = w_cont * delta_y
    eta_treat = att_treat.mean() / w_treat.mean()
    eta_cont = att_cont.mean() / w_cont.mean()
    inf_treat = (att_treat - w_treat * eta_treat) / w_treat.mean()
    ps_term = fit.influence @ ((w_cont * (delta_y - eta_cont))[:, None] * design).mean(axis=0)
    inf_cont = (att_cont - w_cont * eta_cont + ps_term) / w_cont.mean()
    return float(eta_treat - eta_cont), inf_treat - inf_cont


def reg_did_panel(delta_y: np.ndarray, treated: np.ndarray, design: np.ndarray,
                  weights: np.ndarray, pscore_fit: PropensityFit | None = None) -> tuple[float, np.ndarray]:
    """Outcome-regression DiD ATT (DRDID ``reg_did_panel``) and its influence function."""
    del pscore_fit  # no propensity score in the regression estimator
    weights = _normalise(weights)
    fitted, ols_influence = _control_regression(delta_y, treated, design, weights)
    w_treat = weights * treated
    att_treat = w_treat * delta_y
    att_cont = w_treat * fitted
    eta_treat = att_treat.mean() / w_treat.mean()
    eta_cont = att_cont.mean() / w_treat.mean()
    inf_treat = (att_treat - w_treat * eta_treat) / w_treat.mean()
    ols_term = ols_influence @ (w_treat[:, None] * design).mean(axis=0)
    inf_cont = (att_cont - w_treat * eta_cont + ols_term) / w_treat.mean()
    return float(eta_treat - eta_cont), inf_treat - inf_cont


ESTIMATORS = {"dr": drdid_panel, "ipw": ipw_did_panel, "reg": reg_did_panel}
