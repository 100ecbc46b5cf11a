"""Panel models that linearmodels already estimates well, behind the package's formula and results.

``panel_model(formula, data, model=..., unit=..., time=...)`` fits random effects, first
differences, the between estimator or pooled OLS with :mod:`linearmodels.panel` and returns a
:class:`~.results.PanelModelResults` (the results contract: ``tidy``, ``glance``, ``summary``...).
Nothing is re-derived here: estimates, covariances (unadjusted, robust, clustered), degrees of
freedom and R-squared variants are linearmodels' own.  This module only turns a formula and a
DataFrame into the arrays and panel index linearmodels expects.

One function with ``model=`` rather than four: the four share every argument (formula, panel
index, covariance, weights, level) and one results class, so a comparison across models is one
loop over ``model`` and an unknown model is one :class:`~effectmeting.errors.OptionError`.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from effectmeting.errors import FormulaError, IdentificationError, OptionError
from effectmeting.estimate.core.results import check_level
from effectmeting.estimate.fixest.design import check_columns, design_matrix
from effectmeting.estimate.fixest.formula import parse_formula
from effectmeting.estimate.panel_models.results import PanelModelResults

#: model name -> (linearmodels class name, label)
MODELS: dict[str, tuple[str, str]] = {
    "random": ("RandomEffects", "Random effects (GLS)"),
    "first_difference": ("FirstDifferenceOLS", "First differences"),
    "between": ("BetweenOLS", "Between (unit means)"),
    "pooled": ("PooledOLS", "Pooled OLS"),
}
VCOV_TYPES = ("unadjusted", "robust")


def _check_model(model: Any) -> str:
    if not isinstance(model, str) or model not in MODELS:
        raise OptionError(f"panel_model: model={model!r} is unknown; use one of {', '.join(MODELS)}",
                          reason="unknown_model")
    return model


def _cluster_column(vcov: Any) -> str | None:
    """The cluster column of ``vcov`` ({"cluster": col}), None for "unadjusted"/"robust"."""
    if isinstance(vcov, str) and vcov in VCOV_TYPES:
        return None
    if isinstance(vcov, dict) and list(vcov) == ["cluster"] and isinstance(vcov["cluster"], str):
        return vcov["cluster"]
    raise OptionError(f"panel_model: vcov={vcov!r} is unknown; use 'unadjusted', 'robust' or "
                      "{'cluster': column}", reason="unknown_vcov")


def _check_index_columns(data: pd.DataFrame, columns: dict[str, str | None]) -> None:
    for role, column in columns.items():
        if column is not None and column not in data.columns:
            raise OptionError(f"panel_model: {role}={column!r} is not a column of the data")


def panel_model(formula: str, data: pd.DataFrame, *, model: str = "random", unit: str, time: str,
                vcov: str | dict[str, str] = "unadjusted", weights: str | None = None,
                level: float = 0.95) -> PanelModelResults:
    """Fit a linearmodels panel model from a formula: random effects, first differences, between, pooled.

    Parameters
    ----------
    formula:
        ``y ~ x1 + x2 + C(year)`` in the package's grammar (parsed, never evaluated; ``i()``,
        ``C()`` and ``a:b`` allowed).  No ``| fixed effects``: the within estimator is
        :func:`~effectmeting.feols`.  For ``first_difference`` the intercept is dropped (a
        constant does not survive differencing; linearmodels refuses one); dummies keep their
        reference level, so differenced year dummies stay full rank.
    data:
        One row per unit and period; rows with a missing value in any used column are dropped
        (counted in ``glance()["n_dropped_missing"]``).
    model:
        ``"random"`` (RandomEffects, Swamy-Arora variance components), ``"first_difference"``
        (FirstDifferenceOLS: consecutive periods of a unit, in ``time`` order), ``"between"``
        (BetweenOLS on unit means) or ``"pooled"`` (PooledOLS).
    unit, time:
        The panel index columns; a (unit, time) pair may occur once.
    vcov:
        ``"unadjusted"`` (homoskedastic), ``"robust"`` (White) or ``{"cluster": column}``
        (one-way clustered), all as linearmodels computes them with its default ``debiased=True``:
        small-sample scaling and Student-t inference with linearmodels' ``df_resid``.
    weights:
        Column of observation weights (linearmodels' weighted estimators), or None.
    level:
        Confidence level of ``tidy()``'s intervals.

    Returns a :class:`PanelModelResults`; ``result.fit`` is the linearmodels results object.
    Regressors linearmodels finds collinear (say year dummies with ``model="between"`` on a
    balanced panel) raise an :class:`~effectmeting.errors.IdentificationError` carrying its message.
    """
    level = check_level(level, "panel_model")
    model = _check_model(model)
    cluster = _cluster_column(vcov)
    parsed = parse_formula(formula)
    if parsed.fixed_effects:
        raise FormulaError(f"panel_model takes no '| fixed effects' ({formula!r}); for the within "
                           "(fixed-effects) estimator use feols")
    check_columns(parsed, data)
    _check_index_columns(data, {"unit": unit, "time": time, "weights": weights, "cluster": cluster})
    used = list(dict.fromkeys([*parsed.columns, unit, time, *(c for c in (weights, cluster) if c)]))
    complete = data[used].notna().all(axis=1).to_numpy()
    frame = data.loc[complete, used].sort_values([unit, time], kind="stable").reset_index(drop=True)
    if frame.duplicated([unit, time]).any():
        raise OptionError(f"panel_model: (unit, time) = ({unit!r}, {time!r}) occurs more than once; "
                          "a panel model needs one row per unit and period")
    if model == "first_difference":
        parsed.intercept = True  # so dummies drop their reference level; the constant goes below
    matrix, names = design_matrix(parsed, frame)
    index = pd.MultiIndex.from_frame(frame[[unit, time]])
    exog = pd.DataFrame(matrix[:, 1:], index=index, columns=names)
    if model == "first_difference":
        exog = exog.drop(columns="Intercept")
    dependent = pd.Series(matrix[:, 0], index=index, name=parsed.outcome)
    fit = _fit(model, dependent, exog, frame, weights, vcov, cluster)
    n_clusters = None if cluster is None else int(frame[cluster].nunique())
    return PanelModelResults(fit, model=model, label=MODELS[model][1], formula=formula, unit=unit, time=time,
                             vcov=vcov, cluster=cluster, weights=weights, level=level, n_clusters=n_clusters,
                             n_dropped_missing=int((~complete).sum()))


def _fit(model: str, dependent: pd.Series, exog: pd.DataFrame, frame: pd.DataFrame,
         weights: str | None, vcov: str | dict[str, str], cluster: str | None) -> Any:
    import linearmodels.panel as panel  # imported here: linearmodels takes a while to import

    estimator = getattr(panel, MODELS[model][0])
    weight = None if weights is None else pd.Series(frame[weights].to_numpy(dtype=float), index=dependent.index)
    options: dict[str, Any] = {"cov_type": vcov}
    if cluster is not None:
        # integer codes: linearmodels wants numeric cluster ids; the grouping is unchanged
        codes = pd.factorize(frame[cluster])[0]
        options = {"cov_type": "clustered", "clusters": pd.DataFrame({cluster: codes}, index=dependent.index)}
    try:
        return estimator(dependent, exog, weights=weight).fit(**options)
    except ValueError as error:  # linearmodels' rank checks (e.g. year dummies in unit means)
        if "collinear" not in str(error) and "rank" not in str(error):
            raise
        raise IdentificationError(f"panel_model (model={model!r}): {error}") from error
