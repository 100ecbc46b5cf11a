"""What the synthetic estimators share around a fit: in-space placebo draws, the placebo table and its
p-values, the pre-period fit diagnostics and the refusal of a twin that does not fit.

In-space placebos (Abadie, Diamond & Hainmueller 2010, sec. 2.4; Arkhangelsky et al. 2021,
Algorithm 4): ``n_treated`` donors at a time are treated in the treated units' place, and the
estimator is re-run on the donors alone.  When there are at most ``n_draws`` such sets they are all
used (with one treated unit: every donor once, so the result does not depend on a seed); otherwise
``n_draws`` random sets.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from effectmeting.errors import IdentificationError, OptionError

#: default refusal threshold: pre-period RMSPE in units of the noise level (see :func:`refuse_poor_fit`)
MAX_PRE_RMSPE = 3.0


def check_max_pre_rmspe(value: object, who: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise OptionError(f"{who}: max_pre_rmspe={value!r} must be a positive number (pre-period RMSPE in units "
                          "of the noise level) or None to switch the refusal off")
    return float(value)


def check_n_draws(n_draws: object, who: str) -> int:
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 2:
        raise OptionError(f"{who}: n_draws={n_draws!r} must be an integer >= 2 (placebo or bootstrap draws)")
    return int(n_draws)


def placebo_sets(n_donors: int, n_treated: int, n_draws: int, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(donors kept, donors treated instead)`` position arrays, one pair per placebo: every set of
    ``n_treated`` donors when there are at most ``n_draws``, else ``n_draws`` random permutations
    (the last ``n_treated`` positions treated, as in the paper's Algorithm 4)."""
    everyone = np.arange(n_donors)
    if math.comb(n_donors, n_treated) <= n_draws:
        sets = []
        for chosen in itertools.combinations(range(n_donors), n_treated):
            treated = np.array(chosen)
            sets.append((np.setdiff1d(everyone, treated), treated))
        return sets
    out = []
    for _ in range(n_draws):
        order = rng.permutation(n_donors)
        out.append((order[: n_donors - n_treated], order[n_donors - n_treated:]))
    return out


def placebo_table(labels: list[str], estimates: list[float], pre: list[float], post: list[float]) -> pd.DataFrame:
    """The placebo fits as a frame (their gap paths are kept by the result, for the plot)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.asarray(post, dtype=float) / np.asarray(pre, dtype=float)
    table = pd.DataFrame({"placebo": labels, "estimate": estimates, "pre_rmspe": pre, "post_rmspe": post,
                          "rmspe_ratio": ratio})
    return table


def placebo_p_values(estimate: float, ratio: float, placebos: pd.DataFrame) -> tuple[float, float]:
    """Two in-space placebo p-values, each ``(1 + #placebos at least as extreme) / (1 + #placebos)``:
    of ``|estimate|`` among the placebos' ``|estimate|``, and of the post/pre RMSPE ratio among theirs
    (Abadie et al. 2010's test, which discounts placebos that fit badly before adoption)."""
    if placebos.empty:
        return float("nan"), float("nan")
    count = len(placebos)
    by_effect = (1 + int((placebos["estimate"].abs() >= abs(estimate) - 1e-12).sum())) / (1 + count)
    ratios = placebos["rmspe_ratio"].to_numpy(dtype=float)
    by_ratio = (1 + int((ratios >= ratio - 1e-12).sum())) / (1 + count)
    return float(by_effect), float(by_ratio)


def refuse_poor_fit(pre_rmspe: float, noise: float, threshold: float | None, who: str, treated: str,
                    pre_mean: float) -> None:
    """Refuse a twin whose pre-period RMSPE exceeds ``threshold`` times the noise level.

    The noise level is the standard deviation of the donors' year-on-year changes before adoption:
    a twin that misses the treated unit's own history by more than a few typical yearly movements
    does not reproduce it, and its post-period gap is not an effect (Abadie 2021, sec. 4: "the
    synthetic control ... should not be used if the fit is poor").
    """
    if threshold is None or not np.isfinite(pre_rmspe):
        return
    scale = noise if noise > 0 else float("nan")
    ratio = pre_rmspe / scale
    if not ratio <= threshold:
        raise IdentificationError(
            f"{who}: the donors cannot reproduce {treated} before adoption: pre-period RMSPE {pre_rmspe:.4g} "
            f"(mean outcome {pre_mean:.4g}) is {ratio:.2f} times the noise level {noise:.4g} (the donors' typical "
            f"year-on-year change), above max_pre_rmspe={threshold:g}. The treated unit lies outside what a "
            "weighted average of donors can reach: add donors like it, use synthetic_did (which allows a level "
            "difference), or pass max_pre_rmspe=None to estimate anyway", reason="poor_pre_fit")
