"""2x2 DiD estimators for repeated cross-sections, with influence functions (R ``DRDID``).

* ``dr``  -> ``DRDID::drdid_rc`` (locally efficient doubly robust; what R ``did`` calls for
  ``panel = FALSE, est_method = "dr"``): logit propensity score plus four outcome regressions
  (controls and treated, pre and post);
* ``ipw`` -> ``DRDID::std_ipw_did_rc`` (normalised IPW);
* ``reg`` -> ``DRDID::reg_did_rc`` (outcome regression).

One observation per row: ``y`` outcome, ``post`` = 1 in the later period of the cell, ``treated``
= 1 for the cohort, ``design`` = covariates with an intercept column, ``weights`` sampling
weights.  The influence function is scaled so that ``var(att) = mean(inf**2) / n_rows``.
"""
from __future__ import annotations

import numpy as np

from effectmeting.errors import IdentificationError
from effectmeting.estimate.callaway_santanna.drdid import PSCORE_TRIM_LEVEL, fit_logit


def _subset_ols(y: np.ndarray, design: np.ndarray, weights: np.ndarray,
                subset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted OLS of ``y`` on ``design`` within ``subset``: fitted values for every row and the
    coefficients' asymptotic linear representation (n x k)."""
    n = len(y)
    w = weights * subset
    gram = (design * w[:, None]).T @ design
    try:
        coef = np.linalg.solve(gram, (design * w[:, None]).T @ y)
    except np.linalg.LinAlgError as exc:
        raise IdentificationError(
            "An outcome regression within a cohort/period cell is singular (a covariate is "
            "constant or collinear there); drop that covariate or use method='ipw'.",
            reason="collinear",
        ) from exc
    fitted = design @ coef
    return fitted, (design * (w * (y - fitted))[:, None]) @ np.linalg.inv(gram / n)


def _mean_cols(values: np.ndarray, design: np.ndarray) -> np.ndarray:
    return (values[:, None] * design).mean(axis=0)


def drdid_rc(y, post, treated, design, weights) -> tuple[float, np.ndarray]:
    """Locally efficient DR DiD for repeated cross-sections (DRDID ``drdid_rc``)."""
    weights = weights / weights.mean()
    fit = fit_logit(treated, design, weights)
    ps = fit.pscore
    keep = np.where(treated == 1, ps < 1.01, ps < PSCORE_TRIM_LEVEL)
    pre = 1.0 - post
    control = 1.0 - treated
    cont_pre, lin_cont_pre = _subset_ols(y, design, weights, control * pre)
    cont_post, lin_cont_post = _subset_ols(y, design, weights, control * post)
    treat_pre, lin_treat_pre = _subset_ols(y, design, weights, treated * pre)
    treat_post, lin_treat_post = _subset_ols(y, design, weights, treated * post)
    cont_fit = post * cont_post + pre * cont_pre
    odds = ps / (1.0 - ps)

    w = {"treat_pre": keep * weights * treated * pre, "treat_post": keep * weights * treated * post,
         "cont_pre": keep * weights * odds * control * pre,
         "cont_post": keep * weights * odds * control * post,
         "d": keep * weights * treated, "dt1": keep * weights * treated * post,
         "dt0": keep * weights * treated * pre}
    m = {key: value.mean() for key, value in w.items()}
    residual = y - cont_fit
    eta = {"treat_pre": w["treat_pre"] * residual / m["treat_pre"],
           "treat_post": w["treat_post"] * residual / m["treat_post"],
           "cont_pre": w["cont_pre"] * residual / m["cont_pre"],
           "cont_post": w["cont_post"] * residual / m["cont_post"],
           "d_post": w["d"] * (treat_post - cont_post) / m["d"],
           "dt1_post": w["dt1"] * (treat_post - cont_post) / m["dt1"],
           "d_pre": w["d"] * (treat_pre - cont_pre) / m["d"],
           "dt0_pre": w["dt0"] * (treat_pre - cont_pre) / m["dt0"]}
    a = {key: value.mean() for key, value in eta.items()}
    att = ((a["treat_post"] - a["treat_pre"]) - (a["cont_post"] - a["cont_pre"])
           + (a["d_post"] - a["dt1_post"]) - (a["d_pre"] - a["dt0_pre"]))

    def centred(name: str, weight: str) -> np.ndarray:
        return eta[name] - w[weight] * a[name] / m[weight]

    inf_treat = (centred("treat_post", "treat_post") - centred("treat_pre", "treat_pre")
                 + lin_cont_post @ (-_mean_cols(w["treat_post"] * post, design) / m["treat_post"])
                 + lin_cont_pre @ (-_mean_cols(w["treat_pre"] * pre, design) / m["treat_pre"]))
    ps_moment = (_mean_cols(w["cont_post"] * (residual - a["cont_post"]), design) / m["cont_post"]
                 - _mean_cols(w["cont_pre"] * (residual - a["cont_pre"]), design) / m["cont_pre"])
    inf_cont = (centred("cont_post", "cont_post") - centred("cont_pre", "cont_pre")
                + fit.influence @ ps_moment
                + lin_cont_post @ (-_mean_cols(w["cont_post"] * post, design) / m["cont_post"])
                + lin_cont_pre @ (-_mean_cols(w["cont_pre"] * pre, design) / m["cont_pre"]))
    inf_eff = ((centred("d_post", "d") - centred("dt1_post", "dt1"))
               - (centred("d_pre", "d") - centred("dt0_pre", "dt0")))
    mom_post = _mean_cols(w["d"] / m["d"] - w["dt1"] / m["dt1"], design)
    mom_pre = _mean_cols(w["d"] / m["d"] - w["dt0"] / m["dt0"], design)
    inf_or = ((lin_treat_post - lin_cont_post) @ mom_post
              - (lin_treat_pre - lin_cont_pre) @ mom_pre)
    return float(att), inf_treat - inf_cont + inf_eff + inf_or


def ipw_did_rc(y, post, treated, design, weights) -> tuple[float, np.ndarray]:
    """Normalised IPW DiD for repeated cross-sections (DRDID ``std_ipw_did_rc``)."""
    weights = weights / weights.mean()
    fit = fit_logit(treated, design, weights)
    ps = fit.pscore
    keep = np.where(treated == 1, ps < 1.01, ps < PSCORE_TRIM_LEVEL)
    pre = 1.0 - post
    odds = ps / (1.0 - ps)
    parts = {"treat_pre": keep * weights * treated * pre,
             "treat_post": keep * weights * treated * post,
             "cont_pre": keep * weights * odds * (1 - treated) * pre,
             "cont_post": keep * weights * odds * (1 - treated) * post}
    att_part, inf_part = {}, {}
    for name, weight in parts.items():
        eta = weight * y / weight.mean()
        att_part[name] = eta.mean()
        inf_part[name] = eta - weight * att_part[name] / weight.mean()
    att = (att_part["treat_post"] - att_part["treat_pre"]) - (att_part["cont_post"] - att_part["cont_pre"])
    ps_moment = (_mean_cols(parts["cont_post"] * (y - att_part["cont_post"]), design) / parts["cont_post"].mean()
                 - _mean_cols(parts["cont_pre"] * (y - att_part["cont_pre"]), design) / parts["cont_pre"].mean())
    inf_treat = inf_part["treat_post"] - inf_part["treat_pre"]
    inf_cont = inf_part["cont_post"] - inf_part["cont_pre"] + fit.influence @ ps_moment
    return float(att), inf_treat - inf_cont


def reg_did_rc(y, post, treated, design, weights) -> tuple[float, np.ndarray]:
    """Outcome-regression DiD for repeated cross-sections (DRDID ``reg_did_rc``)."""
    weights = weights / weights.mean()
    pre = 1.0 - post
    fit_pre, lin_pre = _subset_ols(y, design, weights, (1 - treated) * pre)
    fit_post, lin_post = _subset_ols(y, design, weights, (1 - treated) * post)
    w_pre, w_post, w_cont = weights * treated * pre, weights * treated * post, weights * treated
    eta_pre = (w_pre * y).mean() / w_pre.mean()
    eta_post = (w_post * y).mean() / w_post.mean()
    cont = w_cont * (fit_post - fit_pre)
    eta_cont = cont.mean() / w_cont.mean()
    att = (eta_post - eta_pre) - eta_cont
    inf_treat = ((w_post * y - w_post * eta_post) / w_post.mean()
                 - (w_pre * y - w_pre * eta_pre) / w_pre.mean())
    moment = _mean_cols(w_cont, design)
    inf_cont = (cont - w_cont * eta_cont + lin_post @ moment - lin_pre @ moment) / w_cont.mean()
    return float(att), inf_treat - inf_cont


ESTIMATORS_RC = {"dr": drdid_rc, "ipw": ipw_did_rc, "reg": reg_did_rc}
