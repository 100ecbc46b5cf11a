"""Effects of several cost lines with per-municipality influence values, for any estimator.

Every estimator the cost modules offer is *linear in the outcome* for a fixed treatment timing
(Callaway-Sant'Anna without covariates or doubly robust, Sun-Abraham, imputation, TWFE).  Its
uncertainty is therefore carried by one influence value per municipality (cluster) and effect,
``phi[i, key, line]``, scaled so that

    Var(effect) = sum_i phi_i ** 2          (SE = sqrt of it; clustered by municipality)

and the covariance of two effects is ``sum_i phi_i phi'_i``.  Sums of effects -- lines into a
total, event times into a cumulative net cost -- have as influence values the sums of the
influence values, which keeps every covariance between lines and event times.

Scalings per estimator (so that ``sqrt(sum phi^2)`` is the estimator's own SE):

* ``cs``: R ``did``'s influence function ``psi`` divided by the number of units ``n``;
* ``sa``/``twfe``: CR1 cluster scores, ``sqrt(c) (X'X)^-1 sum_t x~_it u_it`` with fixest's
  small-sample factor ``c = G/(G-1) (N-1)/(N-K)``;
* ``imputation``: Borusyak-Jaravel-Spiess Theorem-3 cluster sums ``sum_t v_it e~_it``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from effectmeting.estimate.registry import COST_ESTIMATORS
from effectmeting.estimate.registry import ESTIMATORS as REGISTRY


def _citation(name: str) -> str:
    citation = REGISTRY[name].citation
    assert citation is not None, f"cost estimator {name!r} needs a citation in the registry"
    return citation


#: estimators of the cost modules and their labels in notes and tables
ESTIMATORS: dict[str, str] = {name: _citation(name) for name in COST_ESTIMATORS}


@dataclass
class LineFits:
    """Overall and event-time effects of ``lines`` and their per-unit influence values.

    ``overall`` (L,), ``event`` (E, L) for ``event_times`` (E,); ``phi_overall`` (n, L) and
    ``phi_event`` (n, E, L) with ``Var = sum over n of phi^2`` (None when not computed).
    """

    lines: list[str]
    units: np.ndarray
    overall: np.ndarray
    event_times: np.ndarray
    event: np.ndarray
    phi_overall: np.ndarray | None = None
    phi_event: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)


def check_estimator(estimator: str, where: str) -> str:
    """``estimator`` if known, else IdentificationError listing the allowed ones."""
    from effectmeting.errors import IdentificationError

    if estimator not in ESTIMATORS:
        raise IdentificationError(f"{where}: estimator={estimator!r} is not available; use one of "
                                  f"{list(ESTIMATORS)} (cs = Callaway-Sant'Anna, sa = Sun-Abraham, imputation = "
                                  "Borusyak-Jaravel-Spiess, twfe = two-way fixed effects, biased, for contrast)")
    return estimator


def standard_error(phi: np.ndarray) -> np.ndarray:
    """``sqrt(sum_i phi_i^2)`` over the first axis (units)."""
    return np.sqrt(np.sum(phi ** 2, axis=0))


def cumulative(fits: LineFits, horizon: int) -> tuple[list[int], np.ndarray, np.ndarray | None]:
    """Cumulative effects ``sum_{e=0}^{k-1} theta(e)`` for k = 1..horizon while every e is estimable.

    Returns ``(ks, estimates (K, L), phi (n, K, L) or None)``; the influence value of a sum is the
    sum of the influence values, so covariances between event times are kept.
    """
    ks, estimates, phis = [], [], []
    for k in range(1, horizon + 1):  # one iteration per horizon year
        which = (fits.event_times >= 0) & (fits.event_times <= k - 1)
        if which.sum() < k:  # an event time 0..k-1 is not estimable: no cumulative for k and beyond
            break
        ks.append(k)
        estimates.append(fits.event[which].sum(axis=0))
        if fits.phi_event is not None:
            phis.append(fits.phi_event[:, which, :].sum(axis=1))
    n_lines = len(fits.lines)
    estimate = np.array(estimates).reshape(len(ks), n_lines)
    phi = np.stack(phis, axis=1) if phis else (None if fits.phi_event is None else
                                              np.zeros((len(fits.units), 0, n_lines)))
    return ks, estimate, phi
