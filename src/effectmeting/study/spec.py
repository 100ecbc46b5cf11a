"""What a design-effect study asks for, checked once at the door, and the frames the estimators get.

* :func:`parse_design` — ``"role=gives_help"`` (or ``"maturity>=3"`` for a score dimension), from
  :mod:`effectmeting.designs.spec` (the one parser, shared with ``costs``);
* :func:`check_request` — unknown dimensions, values, outcomes, estimators or ``by`` columns are
  refused with an :class:`~effectmeting.errors.IdentificationError` that lists the allowed ones;
* :func:`estimation_frame` — one outcome's balanced municipality x year frame with the treatment
  columns; municipalities with a missing value in any year are left out *and counted in a note*
  (the estimators refuse missing values, and the Callaway-Sant'Anna estimator needs a balanced panel);
* :func:`add_terciles` — cut a continuous panel column (e.g. ``deprivation_index``) into terciles
  so it can be used as ``by=``.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from effectmeting.designs.dimensions import DesignError, get_dimension
from effectmeting.designs.spec import DesignSpec, parse_design  # noqa: F401 (re-exported)
from effectmeting.errors import IdentificationError, OptionError
from effectmeting.estimate.registry import ABSORBING, STUDY_ESTIMATORS  # noqa: F401 (re-exported)

KEY = ["municipality", "year"]
#: estimators design_effect knows, in the order tidy() reports them (from the one registry)
ESTIMATORS = STUDY_ESTIMATORS
CONTROLS = ("never", "notyet")
#: a ``by`` column with more distinct values than this is taken for a continuous one
MAX_SUBGROUPS = 10
TERCILE_LABELS = ("low", "middle", "high")


def _numeric_columns(data: pd.DataFrame) -> list[str]:
    return [c for c in data.columns if c not in KEY and pd.api.types.is_numeric_dtype(data[c])
            and not isinstance(data[c].dtype, pd.CategoricalDtype)]


def check_request(panel, spec: DesignSpec, outcomes, estimators, control: str, covariates, by,
                  by_year: int | None = None) -> None:
    """Refuse everything the study cannot do, naming what is allowed (IdentificationError)."""
    designs = panel.designs
    present = sorted(designs["dimension"].dropna().astype(str).unique()) if len(designs) else []
    if spec.dimension not in present:
        raise IdentificationError(
            f"design {spec.text!r}: dimension {spec.dimension!r} is not in the panel's design history; "
            f"dimensions present: {', '.join(present) or '(none: the panel has no design rows)'}")
    try:
        dimension = get_dimension(spec.dimension)
    except DesignError as exc:
        raise IdentificationError(f"design {spec.text!r}: {exc}") from None
    observed = sorted(designs.loc[designs["dimension"] == spec.dimension, "value"].dropna().astype(str).unique())
    if dimension.kind == "score":
        if spec.threshold is None:
            raise OptionError(
                f"design {spec.text!r}: {spec.dimension} is a score ({dimension.allowed_text()}); write "
                f"'{spec.dimension}>=threshold'")
    elif spec.threshold is not None:
        raise OptionError(
            f"design {spec.text!r}: '>=' is for score dimensions; {spec.dimension} has the values "
            f"{', '.join(dimension.allowed)}; write '{spec.dimension}=value'")
    elif spec.treated_value not in observed:
        raise IdentificationError(
            f"design {spec.text!r}: value {spec.treated_value!r} of {spec.dimension} never occurs in the "
            f"panel's design history; values observed: {', '.join(observed)} "
            f"(catalogue: {dimension.allowed_text()})")
    allowed = _numeric_columns(panel.data)
    if isinstance(outcomes, str) or not len(outcomes):
        raise OptionError(f"outcomes must be a non-empty list of panel columns, got {outcomes!r}")
    unknown = [o for o in outcomes if o not in allowed]
    if unknown:
        raise OptionError(
            f"outcome(s) {unknown} are not numeric columns of the panel; allowed: {', '.join(allowed)}",
            reason="unknown_column")
    if len(set(outcomes)) != len(outcomes):
        raise OptionError(f"outcomes {list(outcomes)} name a column more than once")
    bad = [e for e in estimators if e not in ESTIMATORS]
    if bad or not estimators:
        raise OptionError(f"estimator(s) {bad or estimators} unknown; use any of {', '.join(ESTIMATORS)}",
                          reason="unknown_estimator")
    if control not in CONTROLS:
        raise OptionError(f"control={control!r}; use 'never' (never-adopting municipalities) or "
                          "'notyet' (never and not-yet adopting)", reason="unknown_control")
    unknown = [c for c in covariates if c not in allowed]
    if unknown:
        raise OptionError(f"covariate(s) {unknown} are not numeric panel columns; allowed: "
                          f"{', '.join(allowed)}", reason="unknown_column")
    if by is not None:
        if by not in panel.data.columns or by in KEY:
            raise OptionError(f"by={by!r} is not a panel column; columns: "
                              f"{', '.join(c for c in panel.data.columns if c not in KEY)}", reason="unknown_column")
        years = panel.data["year"].unique()
        if by_year is not None and by_year not in years:
            raise OptionError(f"by_year={by_year} is not a panel year; years: {sorted(years.tolist())}")
        values = baseline_values(panel.data, by, by_year).dropna().unique()
        if len(values) > MAX_SUBGROUPS:
            raise OptionError(
                f"by={by!r} has {len(values)} distinct values in the membership year "
                f"({by_year or 'first observed year'}); subgroups need a few categories. Cut a continuous "
                f"column into terciles first: panel = add_terciles(panel, {by!r}) and use by='{by}_tercile', "
                "or choose a by_year in which the column is categorical (e.g. the reference year, after "
                "herindelingen made merged values averages)")


def baseline_values(data: pd.DataFrame, column: str, year: int | None = None) -> pd.Series:
    """Per municipality, ``column`` in ``year`` (default: its first observed year, a pre-adoption
    baseline, so the treatment cannot move a municipality from one subgroup to another).
    Municipalities not observed in ``year`` get NA."""
    if year is None:
        rows = data.sort_values(KEY, kind="mergesort").drop_duplicates("municipality", keep="first")
        return rows.set_index("municipality")[column]
    rows = data.loc[data["year"] == year].set_index("municipality")[column]
    return rows.reindex(pd.Index(data["municipality"].unique(), name="municipality"))


def add_terciles(panel, column: str, *, year: int | None = None, name: str | None = None):
    """A copy of ``panel`` with ``name`` (default ``<column>_tercile``): ``low | middle | high``.

    Each municipality is placed by its value of ``column`` in ``year`` (default: the panel's first
    year, before any adoption in the usual design), cut at the 1/3 and 2/3 quantiles across
    municipalities (``pandas.qcut``); the label is constant over the municipality's years, so
    subgroups never change with treatment.  Municipalities without a value in ``year`` get NA
    (and are left out of subgroup estimates, with a note).  Units: those of ``column``.
    """
    data = panel.data
    if column not in data.columns:
        raise OptionError(f"add_terciles: {column!r} is not a panel column", reason="unknown_column")
    year = int(data["year"].min()) if year is None else int(year)
    rows = data.loc[data["year"] == year, ["municipality", column]]
    if rows.empty:
        raise OptionError(f"add_terciles: the panel has no rows in {year}; years: "
                          f"{sorted(data['year'].unique().tolist())}")
    values = pd.to_numeric(rows[column], errors="coerce")
    if values.nunique() < 3:
        raise IdentificationError(f"add_terciles: {column!r} has fewer than 3 distinct values in {year}")
    tercile = pd.qcut(values, 3, labels=list(TERCILE_LABELS))
    mapping = pd.Series(tercile.to_numpy(), index=rows["municipality"].to_numpy())
    name = name or f"{column}_tercile"
    out = data.copy()
    out[name] = pd.Categorical(data["municipality"].map(mapping), categories=list(TERCILE_LABELS))
    return dataclasses.replace(panel, data=out)


def estimation_frame(data: pd.DataFrame, treatment: pd.DataFrame, outcome: str, covariates: list[str],
                     by: str | None, with_history) -> tuple[pd.DataFrame, list[str]]:
    """The balanced frame for one outcome and the notes on municipalities left out.

    ``treatment``: ``municipality, year`` plus treatment columns (from ``TreatmentTiming``);
    ``with_history``: every municipality with a design history (those missing from ``treatment``
    for another reason, e.g. switchers, are noted by the caller).  A municipality is left out
    (and counted) when it has no design history, misses a year of the analysis window, or has a
    missing outcome/covariate in any year.
    """
    columns = list(dict.fromkeys([*KEY, outcome, *covariates] + ([by] if by else [])))
    frame = data[columns].merge(treatment, on=KEY, how="inner", validate="one_to_one")
    notes = []
    no_design = np.setdiff1d(data["municipality"].unique(), np.asarray(with_history))
    if len(no_design):
        notes.append(f"{outcome}: {len(no_design)} municipalities without a design history left out "
                     f"(e.g. {', '.join(map(str, no_design[:5]))})")
    years = np.sort(frame["year"].unique())
    complete = frame[[outcome, *covariates]].notna().all(axis=1)
    per_unit = complete.groupby(frame["municipality"]).agg(["all", "size"])
    bad = per_unit.index[~per_unit["all"] | (per_unit["size"] != len(years))]
    if len(bad):
        notes.append(f"{outcome}: {len(bad)} of {len(per_unit)} municipalities left out because the outcome "
                     f"or a covariate is missing (e.g. suppressed small counts) in at least one of the years "
                     f"{years[0]}-{years[-1]} (e.g. {', '.join(map(str, bad[:5]))}); the estimators need a "
                     "balanced panel without missing values")
        frame = frame.loc[~frame["municipality"].isin(bad)]
    frame = frame.sort_values(KEY, kind="mergesort").reset_index(drop=True)
    if frame.empty:
        raise IdentificationError(f"{outcome}: no municipality has a complete series; nothing to estimate")
    return frame, notes


def time_varying(frame: pd.DataFrame, covariates: list[str]) -> list[str]:
    """Covariates that vary within some municipality (constant ones are absorbed by unit effects)."""
    if not covariates:
        return []
    spread = frame.groupby("municipality", sort=False)[covariates].nunique()
    return [c for c in covariates if (spread[c] > 1).any()]
