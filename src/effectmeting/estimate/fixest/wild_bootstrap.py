"""Wild cluster bootstrap (restricted, WCR) p-value and confidence interval for one coefficient
of a ``feols`` fit.

With few clusters (say < 50) cluster-robust t-tests over-reject; the wild cluster bootstrap
with the null imposed (Cameron, Gelbach & Miller 2008; MacKinnon & Webb 2017) does much
better.  The bootstrap runs on the model's within-transformed data (Frisch-Waugh-Lovell), as
the ``wildboottest`` package does when given demeaned data.  For ``H0: coef[term] = r`` the
restricted fit regresses ``y - r x_j`` on the other columns ``X_r`` (the null as an offset),
giving ``b_r``/``u_r``; each draw is ``y* = X_r b_r + r x_j + v_g u_r`` with ``v_g`` one weight
per cluster, and ``t* = (b*_j - r) / se*``.  Both t's use the unscaled CRV1 sandwich: the
small-sample factor of the original t is the same for every draw, so it cancels.

Test inversion (Roodman, Nielsen, MacKinnon & Webb 2019, "Fast and wild: bootstrap inference
in Stata using boottest", Stata Journal 19(1); as ``boottest`` and R's ``fwildclusterboot``
do): the confidence interval is the set of ``r`` whose
WCR p-value is at least ``alpha = 1 - level``, with the SAME weight matrix for every ``r``, so
``p(r)`` is a deterministic step function.  Everything that depends on ``r`` is linear in it:
``u_r(r) = u_r(r0) - (r - r0) M_r x_j``, so each draw's numerator ``b*_j - r`` is linear and
its squared standard error quadratic in ``r``.  Five length-B vectors are computed once
(O(B G k)); after that ``p(r)`` costs O(B) per ``r`` (no refit, no loop over draws).

With Rademacher weights and ``2**G <= B`` all ``2**G`` sign vectors are enumerated instead of
drawn, so p-values and interval are exact (deterministic).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from effectmeting.estimate.core.checks import OptionError
from effectmeting.estimate.core.arguments import renamed_arguments, resolve_seed
from effectmeting.estimate.core.bootstrap import check_weight_type, cluster_weights
from effectmeting.estimate.core.hypothesis_test import InferenceResults
from effectmeting.estimate.core.results import check_level

#: |t*| >= |t| * (1 - _TIE) counts as extreme, so exact ties (the identity draw and its mirror
#: image always reproduce |t|) are not lost to rounding: the conservative convention
_TIE = 1e-12
#: bound on the (R, B) work arrays of one p-value evaluation (elements)
_CHUNK = 2_000_000


def _sums_by_cluster(x: np.ndarray, factor: np.ndarray, codes: np.ndarray,
                     n_clusters: int) -> np.ndarray:
    """(G, k) sums of ``x * factor[:, None]`` within clusters, one column at a time (no (n, k)
    temporary: x can have millions of rows)."""
    return np.column_stack([np.bincount(codes, weights=x[:, col] * factor, minlength=n_clusters)
                            for col in range(x.shape[1])])


@dataclass(frozen=True)
class WcrPvalueCurve:
    """The WCR bootstrap of one coefficient as a function of the null value ``r``.

    With ``d = r - estimate``: each draw's numerator is ``b*_j - r = num0 - d num1`` and its
    squared (unscaled) standard error ``den0 - 2 d den1 + d**2 den2``; the original
    ``t(r) = -d / se``.  All arrays have length B (draws).
    """

    estimate: float
    se: float  # unscaled CRV1 standard error of the estimate (no small-sample factor)
    num0: np.ndarray
    num1: np.ndarray
    den0: np.ndarray
    den1: np.ndarray
    den2: np.ndarray
    #: draws whose weights are equal in every cluster (the identity sign vector, its mirror):
    #: they rescale y - fitted, so |t*| = |t| exactly for every r.  Counted as ties directly,
    #: because far from the estimate rounding in the quadratic exceeds any relative tolerance
    constant: np.ndarray

    @property
    def tied_share(self) -> float:
        """Limit of ``p(r)`` as ``|r|`` grows: only the always-tied draws stay extreme."""
        return float(np.mean(self.constant))

    @property
    def draws(self) -> int:
        return len(self.num0)

    def p_values(self, nulls) -> np.ndarray:
        """Two-sided WCR p-values (share of ``|t*| >= |t|``) for an array of null values."""
        nulls = np.atleast_1d(np.asarray(nulls, dtype=float))
        out = np.empty(len(nulls))
        step = max(1, _CHUNK // self.draws)
        for start in range(0, len(nulls), step):  # bounded memory; vectorised within a chunk
            d = (nulls[start:start + step] - self.estimate)[:, None]
            numerator = self.num0 - d * self.num1
            # rounding can push a tiny quadratic below zero; a zero se* gives |t*| = inf
            variance = np.maximum(self.den0 - 2 * d * self.den1 + d ** 2 * self.den2, 0.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                t_star_sq = numerator ** 2 / variance
            t_sq = (d / self.se) ** 2 * (1 - _TIE) ** 2
            out[start:start + step] = np.mean((t_star_sq >= t_sq) | self.constant, axis=1)
        return out


def wcr_pvalue_curve(result, term: str, *, n_draws: int = 999, weight_type: str = "rademacher",
                     seed: int | None = None) -> WcrPvalueCurve:
    """Precompute the WCR bootstrap of ``coef[term]`` for every null value at once.

    ``result`` is a :class:`FeolsResults` with one-way clustering.  Weights are drawn once
    (:func:`~effectmeting.estimate.core.bootstrap.cluster_weights`), so ``p_values(r)`` is a deterministic function of ``r``.
    """
    data = result._transformed
    if len(data.cluster_codes) != 1:
        raise OptionError("wild_cluster_bootstrap needs a fit with one-way clustering, "
                          "e.g. feols(..., vcov={'cluster': 'municipality'})")
    if term not in result.coef.index:
        raise KeyError(f"term {term!r} is not in the model; terms are {list(result.coef.index)}")
    x, y, codes = data.x, data.y, data.cluster_codes[0]
    n_clusters = int(codes.max()) + 1
    j = result.coef.index.get_loc(term)
    x_j = x[:, j]
    x_r = np.delete(x, j, axis=1)

    bread = np.linalg.inv(x.T @ x)
    row = bread[j]  # coefficient j = row @ X'y
    estimate = float(result.coef.iloc[j])
    # restricted residuals at r = estimate (the centre keeps d = r - estimate small) and the
    # direction they move in as r grows: u_r(r) = u_centre - d * w, with w = M_r x_j
    if x_r.shape[1]:
        offset_fit = np.linalg.lstsq(x_r, np.column_stack([y - estimate * x_j, x_j]), rcond=None)[0]
        partialled = np.column_stack([y - estimate * x_j, x_j]) - x_r @ offset_fit
    else:
        partialled = np.column_stack([y - estimate * x_j, x_j])
    u_centre, w = partialled[:, 0], partialled[:, 1]

    v = cluster_weights(n_clusters, n_draws, resolve_seed(seed), weight_type)  # (G, B)
    xa = x @ row
    # per cluster: a'X_g'u_g, a'X_g'w_g (G,), X_g'u_g, X_g'w_g (G, k) and a'X_g'X_g (G, k)
    score_u = np.bincount(codes, weights=xa * u_centre, minlength=n_clusters)
    score_w = np.bincount(codes, weights=xa * w, minlength=n_clusters)
    xu_g = _sums_by_cluster(x, u_centre, codes, n_clusters)
    xw_g = _sums_by_cluster(x, w, codes, n_clusters)
    xxa_g = _sums_by_cluster(x, xa, codes, n_clusters)

    # bootstrap cluster score of coefficient j: a'X_g'(M (v * u_r))_g
    #   = v_g a'X_g'u_r,g - a'X_g'X_g (X'X)^-1 X'(v * u_r), linear in d: P - d Q
    p_part = score_u[:, None] * v - xxa_g @ (bread @ (xu_g.T @ v))  # (G, B)
    q_part = score_w[:, None] * v - xxa_g @ (bread @ (xw_g.T @ v))
    num0, num1 = score_u @ v, score_w @ v  # b*_j - r = sum_g v_g a'X_g'u_r,g
    den0 = (p_part ** 2).sum(axis=0)
    den1 = (p_part * q_part).sum(axis=0)
    den2 = (q_part ** 2).sum(axis=0)

    resid = y - x @ (bread @ (x.T @ y))
    se = float(np.sqrt((np.bincount(codes, weights=xa * resid, minlength=n_clusters) ** 2).sum()))
    constant = (v == v[:1]).all(axis=0)
    return WcrPvalueCurve(estimate, se, num0, num1, den0, den1, den2, constant)


def _outer_crossing(curve: WcrPvalueCurve, alpha: float, direction: float, start: float,
                    grid_points: int = 64) -> float:
    """Outermost ``r`` on one side of the estimate with ``p(r) >= alpha`` (``+-inf`` if none).

    Bracket: double ``start`` (the cluster-robust half-width) until ``p < alpha``; scan a grid
    between the estimate and that point for the outermost grid point still inside; bisect the
    step function between it and the next grid point until they are adjacent floats.
    """
    if curve.tied_share >= alpha:
        # every r keeps p(r) >= tied_share: with full enumeration (tied share 2 / 2**G) this
        # happens by construction when alpha < 2 / 2**G, the set is then the whole line
        return direction * np.inf
    half_width = start
    for _ in range(64):
        if curve.p_values(curve.estimate + direction * half_width)[0] < alpha:
            break
        half_width *= 2
    else:  # p(r) >= alpha even 2**64 half-widths out: treat the set as unbounded
        return direction * np.inf
    grid = curve.estimate + direction * half_width * np.linspace(0, 1, grid_points + 1)
    inside_points = np.flatnonzero(curve.p_values(grid) >= alpha)
    last = inside_points[-1] if inside_points.size else 0  # the estimate itself has p = 1
    inside, outside = grid[last], grid[last + 1]
    while True:
        middle = inside + (outside - inside) / 2
        if middle in (inside, outside):
            return float(inside)
        if curve.p_values(middle)[0] >= alpha:
            inside = middle
        else:
            outside = middle


@renamed_arguments(B="n_draws", weights="weight_type")
def wild_cluster_bootstrap(result, term: str, *, r: float = 0.0, n_draws: int = 999,
                           weight_type: str = "rademacher", seed: int | None = None,
                           level: float = 0.95) -> InferenceResults:
    """WCR wild cluster bootstrap test of ``H0: coef[term] = r`` and its inverted interval.

    ``result`` is a :class:`FeolsResults` estimated with ``vcov={"cluster": "col"}`` (one-way;
    fixed effects are partialled out first).  ``weight_type``: ``"rademacher"`` (all ``2**G``
    sign vectors when ``2**G <= n_draws``, else ``n_draws`` draws), ``"webb"`` (six-point) or
    ``"mammen"``,
    drawn once from ``seed`` (None: :data:`~effectmeting.defaults.DEFAULT_SEED`) and reused for
    every null value.  Deprecated names: ``B`` (``n_draws``), ``weights`` (``weight_type``).

    Returns an :class:`InferenceResults` (``tidy()``, ``summary()``, ``to_markdown()``, ...;
    indexable like the Series it used to be: ``result["p_value"]``) holding:

    * ``estimate``, ``statistic`` = ``(estimate - r) / se`` (the fit's cluster t), ``r``;
    * ``p_value``: two-sided, the share of draws with ``|t*| >= |t|``.  Ties count as extreme
      (conservative); the ``wildboottest`` package counts ``>`` strictly, so under full
      enumeration its p-value can be lower by ``2 / 2**G`` (the identity draw and its
      mirror, whose |t*| equals |t|);
    * ``conf_low``, ``conf_high``: the ``level`` interval by test inversion, the outermost
      ``r`` on each side of the estimate with ``p(r) >= 1 - level``, to floating-point
      resolution (the endpoint itself is inside).  It is the hull of the confidence set seen
      on a 64-point grid; the set is an interval in all but pathological data.  Endpoints are
      infinite when no ``r`` is rejected, which happens by construction under enumeration
      when ``1 - level <= 2 / 2**G`` (G <= 5 at level 0.95);
    * ``level``, ``draws`` (``n_draws``, or 2**G when enumerated), ``n_clusters``.

    Assumptions: a linear model (OLS/WLS after the within transformation), clusters
    independent, ``term`` a single coefficient.  References: Cameron, Gelbach & Miller (2008),
    Review of Economics and Statistics 90(3); MacKinnon & Webb (2017), Journal of Applied
    Econometrics 32(2); Roodman, Nielsen, MacKinnon & Webb (2019), Stata Journal 19(1).
    """
    level = check_level(level, "wild_cluster_bootstrap")
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 1:
        raise OptionError(f"wild_cluster_bootstrap: n_draws={n_draws!r} must be a positive whole number "
                          "of draws, e.g. 999")
    check_weight_type(weight_type, "wild_cluster_bootstrap")
    seed = resolve_seed(seed)
    curve = wcr_pvalue_curve(result, term, n_draws=n_draws, weight_type=weight_type, seed=seed)
    n_clusters = int(result._transformed.cluster_codes[0].max()) + 1
    se_fit = float(result.se[term])

    def interval(level: float) -> tuple[float, float]:
        """The ``level`` interval by inverting the test on the same draws."""
        from scipy import stats  # imported here: scipy.stats takes ~0.8 s to import and most runs never reach this
        alpha = 1 - level
        # the cluster-robust interval's half-width is the starting bracket of the search
        start = float(stats.t.ppf(1 - alpha / 2, max(n_clusters - 1, 1)) * se_fit)
        if not np.isfinite(start) or start <= 0:
            start = curve.se if curve.se > 0 else 1.0
        return _outer_crossing(curve, alpha, -1.0, start), _outer_crossing(curve, alpha, 1.0, start)

    conf_low, conf_high = interval(level)
    values = pd.Series({
        "estimate": curve.estimate,
        "statistic": (curve.estimate - r) / se_fit,
        "p_value": float(curve.p_values(r)[0]),
        "draws": curve.draws,
        "n_clusters": n_clusters,
        "r": float(r),
        "level": float(level),
        "conf_low": conf_low,
        "conf_high": conf_high,
    })
    how = ("all 2**G sign vectors enumerated" if weight_type == "rademacher" and 2 ** n_clusters <= n_draws
           else f"{curve.draws} draws, seed {seed}")
    return InferenceResults(
        f"Wild cluster bootstrap (WCR, {weight_type} weights) of H0: {term} = {r:g}", term, values,
        notes=[f"{n_clusters} clusters; {how}; p-value two-sided (ties count as extreme); "
               f"{level:.0%} interval by test inversion (same draws for every null value)."],
        estimator="wild_cluster_bootstrap", std_error=se_fit, interval=interval,
        options={"weight_type": weight_type, "n_draws": n_draws, "seed": seed, "r": float(r), "cluster_vcov": result.vcov_type})
