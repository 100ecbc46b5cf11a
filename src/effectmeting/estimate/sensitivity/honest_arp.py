"""Andrews, Roth & Pakes (ARP) moment-inequality tests with nuisance parameters, inverted over
a grid of ``theta``: the engine behind the relative-magnitudes confidence set of
:mod:`effectmeting.estimate.sensitivity.honest_did`.

The hypothesis ``theta = theta0`` is tested through moment inequalities
``E[y_T(theta0)] - X tau_tilde <= 0`` for some nuisance ``tau_tilde``, with
``y_T(theta0) = Y - a theta0`` and ``Y ~ N(mu, Sigma_Y)`` (Andrews, Roth & Pakes 2023,
"Inference for linear conditional moment inequalities", Section 3; Rambachan & Roth 2023,
Section 5.2).  The statistic is the LP value
``eta = min {eta : y_T - X tau_tilde <= eta * sd}``  (``sd = sqrt(diag(Sigma_Y))``),
whose dual is ``max gamma'y_T`` over the polytope
``P = {gamma >= 0, gamma'sd = 1, gamma'X = 0}``.  ``P`` does not depend on ``theta``: its
vertices are the extreme rays of the cone ``{gamma >= 0, gamma'X = 0}`` scaled to
``gamma'sd = 1``, and the rays depend on ``X`` only, which all polyhedra of Delta^RM and all
``Mbar`` share.  We enumerate the rays once (cached) and evaluate the statistic, the optimal
vertex and the conditioning interval ``[v_lo, v_up]`` for every grid point with matrix
products -- no LP solver in the loop.  The conditioning event is "the optimal vertex stays
optimal" given the sufficient statistic ``S = y - Sigma gamma (gamma'Sigma gamma)^-1 gamma'y``,
which is ARP's dual conditioning (their Lemma and HonestDiD's ``.vlo_vup_dual_fn``); the
conditional critical value is the ``1 - alpha`` quantile of a standard normal truncated to
``[v_lo, v_up] / sigma_B``.

``hybrid="LF"`` is ARP's conditional / least-favourable hybrid (HonestDiD ``method = "C-LF"``):
reject when ``eta`` exceeds the ``1 - kappa`` quantile of ``max_{gamma in P} gamma'xi``,
``xi ~ N(0, Sigma_Y)`` (simulated, ``kappa = alpha / 10``), otherwise run the conditional test at
size ``(alpha - kappa) / (1 - kappa)`` with ``v_up`` truncated at that quantile.
``hybrid="ARP"`` is the plain conditional test (HonestDiD ``method = "Conditional"``).

Ray enumeration costs ``C(m, k + 1)`` small SVDs (``m = 2H`` moments, ``k = H - 1`` nuisance
parameters for ``H`` post periods): milliseconds for ``H <= 5``, about a second for ``H = 9``
and a few seconds for ``H = 10`` (once per ``X``); refused beyond :data:`MAX_BASES`
(``H >= 11``).
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations, islice
from math import comb

import numpy as np
from scipy.special import ndtr, ndtri

from effectmeting.errors import IdentificationError, OptionError

#: largest number of candidate bases we enumerate (C(m, k+1)); beyond this the test is refused
MAX_BASES = 400_000
_TOL = 1e-10


@dataclass
class MomentProblem:
    """``Y`` (m,), ``a`` (m,) the loading of theta, ``X`` (m, k) nuisance loadings, ``sigma_y``."""

    Y: np.ndarray
    a: np.ndarray
    X: np.ndarray
    sigma_y: np.ndarray

    def __post_init__(self) -> None:
        self.sd = np.sqrt(np.diag(self.sigma_y))
        if np.any(self.sd <= 0):
            raise IdentificationError("a moment has zero variance; the ARP test needs a positive-definite "
                                      "covariance of the event-study estimates", reason="zero_variance")
        self.vertices = dual_vertices(self.sd, self.X)


def _column_basis(X: np.ndarray) -> np.ndarray:
    """An orthonormal basis of the column space of ``X`` (the test is invariant to it)."""
    if X.shape[1] == 0:
        return X
    u, s, _ = np.linalg.svd(X, full_matrices=False)
    rank = int((s > s.max() * 1e-10).sum()) if s.size else 0
    return u[:, :rank]


#: extreme rays per nuisance matrix: the polyhedra of Delta^RM (and all Mbar values) share X
_RAYS: dict[tuple, np.ndarray] = {}


def cone_rays(X: np.ndarray) -> np.ndarray:
    """Extreme rays of the cone ``{gamma >= 0, gamma'X = 0}`` as rows, each summing to one.

    A ray's support has ``rank(X) + 1`` elements and spans the null space of ``X_S'``; we
    enumerate the supports in blocks (batched SVD).  Cached per ``X``.
    """
    X = _column_basis(np.asarray(X, dtype=float))
    key = (X.shape, np.round(X, 12).tobytes())
    if key in _RAYS:
        return _RAYS[key]
    m, k = X.shape
    n_supports = comb(m, k + 1)
    if n_supports > MAX_BASES:
        raise IdentificationError(
            f"the ARP test would enumerate {n_supports:,} vertices ({m} moments, {k} nuisance "
            f"parameters); use fewer post periods (at most 10) for relative magnitudes", reason="too_many_post_periods")
    if k == 0:
        rays = np.eye(m)
    else:
        found = []
        supports = combinations(range(m), k + 1)
        while True:  # blocks keep the (n, k, k+1) stacks small
            subsets = np.array(list(islice(supports, 20_000)), dtype=np.intp).reshape(-1, k + 1)
            if subsets.shape[0] == 0:
                break
            blocks = X[subsets].transpose(0, 2, 1)  # X_S': (n, k, k+1)
            _, singular, vh = np.linalg.svd(blocks)
            null = vh[:, -1, :]  # unique null direction when X_S' has full row rank k
            full_rank = singular[:, -1] > 1e-10
            null = null * np.where(null.sum(axis=1) < 0, -1.0, 1.0)[:, None]
            one_signed = full_rank & (null >= -1e-12).all(axis=1)
            block = np.zeros((int(one_signed.sum()), m))
            block[np.arange(block.shape[0])[:, None], subsets[one_signed]] = np.clip(null[one_signed], 0.0, None)
            found.append(block)
        rays = np.vstack(found) if found else np.zeros((0, m))
        rays = rays[rays.sum(axis=1) > 1e-12]
        rays = np.unique(np.round(rays / rays.sum(axis=1, keepdims=True), 13), axis=0)
    if len(_RAYS) > 32:
        _RAYS.clear()
    _RAYS[key] = rays
    return rays


def dual_vertices(sd: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Vertices of ``{gamma >= 0, gamma'sd = 1, gamma'X = 0}`` as rows (n_vertices, m): the
    cone's extreme rays scaled to ``gamma'sd = 1`` (``sd > 0``, so the section is bounded)."""
    rays = cone_rays(np.asarray(X, dtype=float).reshape(sd.size, -1))
    if rays.shape[0] == 0:
        raise IdentificationError("the ARP dual polytope is empty: the moments cannot be tested")
    return rays / (rays @ sd)[:, None]


def standard_normal_draws(simulations: int, dimension: int, seed: int) -> np.ndarray:
    """``(simulations, dimension)`` i.i.d. N(0, 1) draws, shared by the polyhedra of one CI."""
    return np.random.default_rng(seed).standard_normal((simulations, dimension))


def least_favorable_cv(problem: MomentProblem, kappa: float, draws: np.ndarray) -> float:
    """``1 - kappa`` quantile of ``max_v gamma_v'xi``, ``xi ~ N(0, Sigma_Y)`` (Monte Carlo over the
    standard normal ``draws``)."""
    jitter = 1e-14 * problem.sd.max() ** 2 * np.eye(problem.sd.size)
    xi = draws @ np.linalg.cholesky(problem.sigma_y + jitter).T
    eta = (xi @ problem.vertices.T).max(axis=1)
    return float(np.quantile(eta, 1.0 - kappa))


def truncated_normal_quantile(p: float, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Quantile ``p`` of N(0, 1) truncated to ``[lower, upper]``, computed on the side of zero
    with the most probability so that far tails do not lose precision."""
    lower, upper = np.broadcast_arrays(np.asarray(lower, dtype=float), np.asarray(upper, dtype=float))
    out = np.empty(lower.shape)
    right = lower > 0  # all mass in the right tail: work with survival functions
    sf_lo, sf_up = ndtr(-lower[right]), ndtr(-upper[right])
    out[right] = -ndtri(sf_lo - p * (sf_lo - sf_up))
    cdf_lo, cdf_up = ndtr(lower[~right]), ndtr(upper[~right])
    out[~right] = ndtri(cdf_lo + p * (cdf_up - cdf_lo))
    # where the mass underflows the quantile sits at the nearer end
    return np.where(np.isfinite(out), np.clip(out, lower, upper), lower)


def accept_theta(problem: MomentProblem, thetas: np.ndarray, *, alpha: float, hybrid: str,
                 kappa: float, lf_cv: float) -> np.ndarray:
    """Boolean array: ``theta`` not rejected by the conditional (``"ARP"``) or hybrid (``"LF"``) test."""
    thetas = np.atleast_1d(np.asarray(thetas, dtype=float))
    V, sigma = problem.vertices, problem.sigma_y
    out = np.empty(thetas.size, dtype=bool)
    # chunk the grid so that (n_vertices x chunk) arrays stay small
    chunk = max(1, int(2_000_000 // max(V.shape[0], 1)))
    for start in range(0, thetas.size, chunk):
        th = thetas[start:start + chunk]
        y = problem.Y[:, None] - problem.a[:, None] * th[None, :]  # (m, g)
        values = V @ y  # (nv, g)
        best = values.argmax(axis=0)
        eta = values[best, np.arange(th.size)]
        gamma = V[best].T  # (m, g)
        sigma_gamma = sigma @ gamma
        var_b = np.einsum("mg,mg->g", gamma, sigma_gamma)
        b = sigma_gamma / var_b
        s_stat = y - b * eta
        num = V @ s_stat
        den = 1.0 - V @ b
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = num / den
        v_lo = np.where(den > _TOL, ratio, -np.inf).max(axis=0)
        v_up = np.where(den < -_TOL, ratio, np.inf).min(axis=0)
        sigma_b = np.sqrt(var_b)
        if hybrid == "LF":
            size = (alpha - kappa) / (1.0 - kappa)
            v_up = np.minimum(v_up, lf_cv)
        elif hybrid == "ARP":
            size = alpha
        else:
            raise OptionError(f"hybrid must be 'LF' or 'ARP', got {hybrid!r}")
        z_lo, z_up, stat = v_lo / sigma_b, v_up / sigma_b, eta / sigma_b
        inside = (z_lo <= stat) & (stat <= z_up)
        crit = np.zeros(th.size)
        if inside.any():
            q = truncated_normal_quantile(1.0 - size, z_lo[inside], z_up[inside])
            crit[inside] = np.maximum(0.0, q)
        reject = inside & (stat > crit)
        if hybrid == "LF":
            reject |= eta > lf_cv
        out[start:start + chunk] = ~reject
    return out
