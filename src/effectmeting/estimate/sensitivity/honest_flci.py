"""The optimal fixed-length confidence interval (FLCI) of Rambachan & Roth (2023, Section 4.1)
for ``theta = l'tau_post`` under the smoothness restriction Delta^SD(M); it is Armstrong &
Kolesar's (2018, 2020) optimal FLCI applied to the event-study bias.

An affine estimator ``v'betahat`` with post-period weights ``v_post = l`` (anything else makes
the bias unbounded in ``tau``) has bias ``w'delta`` with ``w = (v_pre, l)``.  Write every
``delta`` with ``delta_{-1} = 0`` as ``T^{-1}(eta, s)``: ``eta`` the second differences
(``|eta_j| <= M``) and ``s = delta_0`` the slope leaving the reference period (unrestricted).
Then ``w'delta = c'(eta, s)`` with ``c = T^{-T} w``; the worst-case bias is finite only when the
slope coefficient ``c_s`` is zero (the estimator removes linear trends) and then equals
``M * ||c_eta||_1``; the sign-symmetric set makes the optimal centring zero.  The FLCI is
``v'betahat -/+ sd * cv_alpha(bias / sd)`` with ``sd = sqrt(v'Sigma v)`` and ``cv_alpha(b)`` the
``1 - alpha`` quantile of ``|N(b, 1)|``.  Its half-length is convex in ``v_pre`` (a perspective
of the convex ``cv_alpha`` composed with a norm and an L1 norm), so we minimise it directly with
SLSQP over ``(v_pre, u)``, ``u >= |c_eta|`` -- the exact optimum, where HonestDiD searches a grid
/ bisection over ``sd`` with a simulated ``cv_alpha``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from effectmeting.errors import IdentificationError

_SQRT_2PI = float(np.sqrt(2.0 * np.pi))


def folded_normal_quantile(bias_ratio: float, level: float) -> float:
    """``c`` with ``P(|N(b, 1)| <= c) = level`` (exact: safeguarded Newton, brentq fallback)."""
    b = abs(float(bias_ratio))
    if not np.isfinite(b):
        return np.inf
    c = max(b + ndtri(level), ndtri(0.5 + level / 2))  # the larger of the two limits
    for _ in range(50):
        gap = ndtr(c - b) - ndtr(-c - b) - level
        slope = np.exp(-0.5 * (c - b) ** 2) / _SQRT_2PI + np.exp(-0.5 * (c + b) ** 2) / _SQRT_2PI
        step = gap / slope
        c -= step
        if abs(step) < 1e-15 * max(1.0, c):
            return float(c)
    from scipy import optimize  # imported here: scipy.optimize takes ~0.3 s to import, rarely reached

    def coverage(x: float) -> float:
        return ndtr(x - b) - ndtr(-x - b) - level
    return float(optimize.brentq(coverage, 0.0, b + 10.0, xtol=1e-14, rtol=1e-14))


def _folded_normal_slope(c: float, b: float) -> float:
    """``d cv / d b`` by the implicit function theorem."""
    from scipy import stats  # imported here: scipy.stats takes ~0.8 s to import and most runs never reach this
    up, down = stats.norm.pdf(c - b), stats.norm.pdf(-c - b)
    return float((up - down) / (up + down))


def _bias_maps(n_pre: int, l_vec: np.ndarray):
    """``c = P v_pre + q`` (coefficients on second differences, last entry on the slope)."""
    n_post = l_vec.size
    n = n_pre + n_post + 1  # path including the reference period (index n_pre)
    second = np.zeros((n - 2, n))
    for row in range(n - 2):
        second[row, row:row + 3] = (1.0, -2.0, 1.0)
    second = np.delete(second, n_pre, axis=1)
    slope = np.zeros((1, n - 1))
    slope[0, n_pre] = 1.0  # delta_0 - delta_{-1} with delta_{-1} = 0
    t_inv_t = np.linalg.inv(np.vstack([second, slope])).T  # c = T^{-T} w
    return t_inv_t[:, :n_pre], t_inv_t[:, n_pre:] @ l_vec


@dataclass
class FLCI:
    estimate: float
    half_length: float
    weights: np.ndarray  # (n_pre + n_post,) the affine estimator v
    max_bias: float
    std_error: float


def optimal_flci(beta: np.ndarray, sigma: np.ndarray, n_pre: int, l_vec: np.ndarray, m: float,
                 level: float) -> FLCI:
    """Shortest FLCI for ``l'tau_post`` over affine estimators, Delta^SD(``m``).

    ``beta``/``sigma``: estimates and covariance ordered (pre periods ``-K-1..-2``, post
    periods ``0..H-1``), reference ``-1`` omitted.
    """
    if n_pre < 1:
        raise IdentificationError("the smoothness FLCI needs at least one pre-period estimate before -1",
                                  reason="no_pre_period")
    P, q = _bias_maps(n_pre, l_vec)
    p_eta, q_eta, p_slope, q_slope = P[:-1], q[:-1], P[-1], q[-1]
    n_eta = p_eta.shape[0]

    def weights_of(v_pre: np.ndarray) -> np.ndarray:
        return np.concatenate([v_pre, l_vec])

    def sd_of(v_pre: np.ndarray) -> float:
        v = weights_of(v_pre)
        return float(np.sqrt(max(v @ sigma @ v, 1e-300)))

    # start: extrapolate the slope between -2 and -1 (feasible: it removes linear trends)
    v0 = np.zeros(n_pre)
    v0[-1] = -q_slope / p_slope[-1]
    scale = sd_of(v0)

    def objective(x: np.ndarray) -> float:
        v_pre, u = x[:n_pre], x[n_pre:]
        s = sd_of(v_pre)
        return s * folded_normal_quantile(m * u.sum() / s, level) / scale

    def gradient(x: np.ndarray) -> np.ndarray:
        v_pre, u = x[:n_pre], x[n_pre:]
        v = weights_of(v_pre)
        s = sd_of(v_pre)
        ratio = m * u.sum() / s
        c = folded_normal_quantile(ratio, level)
        slope = _folded_normal_slope(c, ratio)
        d_s = c - ratio * slope
        grad_v = d_s * (sigma @ v)[:n_pre] / s
        grad_u = np.full(n_eta, m * slope)
        return np.concatenate([grad_v, grad_u]) / scale

    constraints = [
        {"type": "eq", "fun": lambda x: np.array([p_slope @ x[:n_pre] + q_slope]),
         "jac": lambda x: np.concatenate([p_slope, np.zeros(n_eta)])[None, :]},
        {"type": "ineq", "fun": lambda x: x[n_pre:] - (p_eta @ x[:n_pre] + q_eta),
         "jac": lambda x: np.hstack([-p_eta, np.eye(n_eta)])},
        {"type": "ineq", "fun": lambda x: x[n_pre:] + (p_eta @ x[:n_pre] + q_eta),
         "jac": lambda x: np.hstack([p_eta, np.eye(n_eta)])},
    ]
    from scipy import optimize  # imported here: scipy.optimize takes ~0.3 s to import, rarely reached

    x0 = np.concatenate([v0, np.abs(p_eta @ v0 + q_eta)])
    fit = optimize.minimize(objective, x0, jac=gradient, constraints=constraints, method="SLSQP",
                            options={"ftol": 1e-15, "maxiter": 1000})
    if not fit.success and fit.status not in (8,):  # 8: positive directional derivative at optimum
        raise IdentificationError(f"the optimal FLCI optimisation did not converge: {fit.message}",
                                  reason="not_converged")
    v_pre = fit.x[:n_pre]
    v = weights_of(v_pre)
    s = sd_of(v_pre)
    bias = m * float(np.abs(p_eta @ v_pre + q_eta).sum())
    half = s * folded_normal_quantile(bias / s, level)
    estimate = float(v @ beta)
    return FLCI(estimate=estimate, half_length=half, weights=v, max_bias=bias, std_error=s)
