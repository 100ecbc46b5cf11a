"""From a design history (``municipality, year, dimension, value``) to the treatment timing of one design choice.

:func:`derive_treatment` turns one dimension into a 0/1 treatment per municipality and year and its
adoption cohort (:class:`~effectmeting.designs.timing.TreatmentTiming`):

* binary dimension: treated = the non-reference category (or ``treated_value``);
* categorical dimension: treated = ``treated_value``; the comparison is every other category
  pooled, or only ``reference_value`` — then municipalities ever observed in a third category are
  excluded (with an audit note).  :func:`compare_categories` does this for every non-reference category;
* score dimension: treated = score >= ``threshold`` (a choice of the study: say why in the report).

Years without a recorded design (absent rows, or NA values e.g. from ``design_rule='unanimous'``)
inside a municipality's history are never filled silently: ``gaps="error"`` (default) refuses,
``gaps="carry_forward"`` carries the last recorded design forward and notes every filled year,
``gaps="exclude"`` leaves such municipalities out and notes each.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from effectmeting.designs.dimensions import (
    DESIGN_COLUMNS, DesignError, Dimension, get_dimension, validate_designs,
)
from effectmeting.designs.timing import EXCLUDED_COLUMNS, TreatmentTiming, empty_excluded, timing_tables
from effectmeting.harmonise.audit import AuditLog

GAP_POLICIES = ("error", "carry_forward", "exclude")
#: municipalities listed in an error message
MESSAGE_UNITS = 10


def _design_frame(designs) -> pd.DataFrame:
    """Accept a design-history frame or anything with a ``.designs`` frame (a harmonised Panel)."""
    frame = getattr(designs, "designs", designs)
    if not isinstance(frame, pd.DataFrame):
        raise DesignError(f"designs must be a DataFrame ({', '.join(DESIGN_COLUMNS)}) or a Panel, "
                          f"got {type(designs).__name__}")
    return frame


def _resolve(spec: Dimension, treated_value, reference_value, threshold) -> tuple[str | None, str | None, str]:
    """Check the treatment definition against the dimension; return (treated, reference, label)."""
    name = spec.name
    if spec.kind == "score":
        if treated_value is not None or reference_value is not None:
            raise DesignError(f"{name} is a score ({spec.allowed_text()}): define treatment with threshold=..., "
                              "not treated_value/reference_value")
        if threshold is None:
            raise DesignError(f"{name} is a score ({spec.allowed_text()}): pass threshold=... "
                              "(treated = score >= threshold)")
        assert spec.score_min is not None and spec.score_max is not None  # checked when the score dimension was built
        if not spec.score_min < float(threshold) <= spec.score_max:
            raise DesignError(f"{name}: threshold={threshold} must lie above {spec.score_min:g} and at most "
                              f"{spec.score_max:g}, otherwise everyone or no one is treated")
        return None, None, f"{name}>={float(threshold):g}"
    if threshold is not None:
        raise DesignError(f"{name} is {spec.kind} ({spec.allowed_text()}): threshold= is only for score dimensions")
    if treated_value is None:
        if spec.kind == "categorical":
            raise DesignError(f"{name} has categories {spec.allowed_text()}: pass treated_value=... (and "
                              "reference_value=...), or use compare_categories() for every category")
        treated_value = spec.non_reference[0]
    for role, value in (("treated_value", treated_value), ("reference_value", reference_value)):
        if value is not None and value not in spec.categories:
            raise DesignError(f"{name}: {role}={value!r} is not a category; allowed: {spec.allowed_text()}")
    if spec.kind == "binary" and reference_value is None:
        reference_value = next(c for c in spec.categories if c != treated_value)
    if reference_value == treated_value:
        raise DesignError(f"{name}: treated_value and reference_value are both {treated_value!r}")
    label = f"{name}={treated_value}"
    if spec.kind == "categorical" and reference_value is not None:
        label += f" vs {reference_value}"
    return treated_value, reference_value, label


def _sorted_units(rows: pd.DataFrame) -> tuple[np.ndarray, pd.Index, np.ndarray, np.ndarray]:
    """Municipality codes (into sorted ``names``), years and the row order sorting by (municipality, year).

    Harmonised panels arrive sorted already; then the sort is skipped (it dominates the cost on
    millions of rows).  ``names`` stays a pandas Index of the input's string dtype so that taking
    ``names[codes]`` for a million rows does not rebuild Python strings.
    """
    codes, uniques = pd.factorize(rows["municipality"])
    by_name = uniques.argsort()
    rank = np.empty(len(by_name), dtype=np.int64)
    rank[by_name] = np.arange(len(by_name))
    codes, names = rank[codes], uniques[by_name]
    year = rows["year"].to_numpy(dtype=np.int64)
    span = int(year.max() - year.min()) + 1
    key = codes * span + (year - year.min())
    order = np.arange(len(key)) if bool((key[1:] >= key[:-1]).all()) else np.argsort(key, kind="stable")
    return codes[order], names, year[order], order


def _years_text(frame: pd.DataFrame) -> pd.Series:
    """Per municipality, its listed years as ``2016, 2017`` (frame: municipality, year; few rows)."""
    return frame.astype({"year": str}).groupby("municipality", sort=True)["year"].agg(", ".join)


def _flags(spec: Dimension, values: pd.Series, treated_value, reference_value, threshold
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: treated, in another category (neither treated nor reference), value missing."""
    missing = values.isna().to_numpy(dtype=bool)
    if spec.kind == "score":
        treated = (pd.to_numeric(values.astype(str), errors="coerce") >= float(threshold)).to_numpy(dtype=bool)
        return treated, np.zeros(len(values), dtype=bool), missing
    text = values.astype(str)
    treated = (text == treated_value).to_numpy(dtype=bool) & ~missing
    if reference_value is None:  # every other category pooled as the comparison
        return treated, np.zeros(len(values), dtype=bool), missing
    other = ~treated & ~missing & (text != reference_value).to_numpy(dtype=bool)
    return treated, other, missing


def _units_without_values(codes, missing, names, label, audit) -> pd.DataFrame:
    """Municipalities whose every value is missing: excluded (noted), since no year can be used."""
    rows_per_unit = np.bincount(codes, minlength=len(names))
    missing_per_unit = np.bincount(codes[missing], minlength=len(names))
    empty = np.flatnonzero((rows_per_unit > 0) & (rows_per_unit == missing_per_unit))
    reason = f"{label}: design value missing (NA) in every year"
    audit.note(stage="designs", source="designs", variable=label, municipality=names[empty].tolist(),
               detail=["excluded: " + reason] * len(empty))
    return pd.DataFrame({"municipality": names[empty], "reason": reason})


def _other_categories(other_codes, other_values, names, label, treated_value, reference_value, audit):
    """Municipalities ever in a third category: a per-unit exclusion mask and the excluded frame (noted)."""
    bad_units = np.zeros(len(names), dtype=bool)
    bad_units[other_codes] = True
    seen = pd.DataFrame({"municipality": names[other_codes], "value": other_values}).drop_duplicates()
    cats = seen.sort_values("value").groupby("municipality", sort=True)["value"].agg(", ".join)
    reason = (f"{label}: observed in other categor(y/ies) " + cats
              + f" (neither treated {treated_value!r} nor reference {reference_value!r})")
    audit.note(stage="designs", source="designs", variable=label, municipality=cats.index.tolist(),
               detail=("excluded: " + reason).tolist())
    return bad_units, pd.DataFrame({"municipality": cats.index, "reason": reason.to_numpy()})


def _select_rows(frame: pd.DataFrame, dimension: str, years, label: str, audit: AuditLog) -> pd.DataFrame:
    """The rows of one dimension with integer years, restricted to ``years`` (rows left out are noted)."""
    rows = frame.loc[frame["dimension"] == dimension, DESIGN_COLUMNS]
    if rows.empty:
        present = sorted(frame["dimension"].dropna().astype(str).unique()) if "dimension" in frame else []
        raise DesignError(f"the design history has no rows for dimension {dimension!r}; present: {present}")
    year_number = pd.to_numeric(rows["year"], errors="coerce")
    bad_year = (year_number.isna() | (year_number % 1 != 0)).to_numpy(dtype=bool)
    if bad_year.any():
        shown = ", ".join(f"row {r}: {v!r}" for r, v in zip(rows.index[bad_year][:MESSAGE_UNITS],
                                                            rows["year"][bad_year][:MESSAGE_UNITS]))
        raise DesignError(f"{dimension}: {int(bad_year.sum())} row(s) without a valid calendar year ({shown}); "
                          "every design row needs the (integer) year it applied to")
    rows = rows.assign(year=year_number.astype("int64"))
    if years is not None:
        wanted = sorted({int(y) for y in years})
        inside = rows["year"].isin(wanted).to_numpy()
        if not inside.any():
            raise DesignError(f"{dimension}: no design rows in years {wanted[0]}-{wanted[-1]}")
        if (~inside).any():
            audit.note(stage="designs", source="designs", variable=label,
                       detail=f"{int((~inside).sum())} design row(s) of {dimension} outside the years "
                              f"{wanted[0]}-{wanted[-1]} not used")
        rows = rows.loc[inside]
    return rows


def derive_treatment(
    designs,
    *,
    dimension: str,
    treated_value: str | None = None,
    reference_value: str | None = None,
    threshold: float | None = None,
    years: Iterable[int] | None = None,
    gaps: str = "error",
    audit: AuditLog | None = None,
    extra_dimensions: Iterable[Dimension] = (),
) -> TreatmentTiming:
    """Treatment timing of ``dimension`` per municipality: cohort, switches and the yearly 0/1 path.

    ``designs``: long design history (``municipality, year, dimension, value``; the design on
    1 January of ``year``), or a harmonised ``Panel`` (its ``.designs``; merged municipalities
    already follow the panel's design rule).  Values are checked against the catalogue
    (:mod:`effectmeting.designs.dimensions`, plus ``extra_dimensions``).

    ``treated_value``: the adopted category (binary default: the non-reference one).
    ``reference_value``: the comparison category; binary default: the other one; categorical
    default ``None`` pools every other category — with a value, municipalities ever observed in a
    third category are excluded.  ``threshold``: for score dimensions, treated = score >= threshold.
    ``years``: calendar years to use (rows outside are left out, noted once); default all.
    ``gaps``: ``"error" | "carry_forward" | "exclude"`` for missing years inside a history.
    ``audit``: log that receives the notes (stage ``designs``); default a new :class:`AuditLog`,
    available as ``.audit`` of the result.  Pass ``panel.audit`` to keep one log for the study.

    Assumptions: one value per municipality, year and dimension; a municipality's history starts at
    its first and ends at its last recorded year (no extrapolation beyond them).
    """
    if gaps not in GAP_POLICIES:
        raise DesignError(f"gaps={gaps!r}: use one of {list(GAP_POLICIES)}")
    audit = AuditLog() if audit is None else audit
    frame = _design_frame(designs)
    spec = get_dimension(dimension, extra_dimensions)
    treated_value, reference_value, label = _resolve(spec, treated_value, reference_value, threshold)
    rows = _select_rows(frame, dimension, years, label, audit)
    validate_designs(rows, extra_dimensions=extra_dimensions, allow_missing=True, check_duplicates=False)

    codes, names, year, order = _sorted_units(rows)
    treated, other, missing = (flag[order] for flag in _flags(spec, rows["value"], treated_value, reference_value,
                                                              threshold))
    _refuse_duplicate_years(codes, year, names, dimension)
    excluded = [empty_excluded()]
    if missing.any():  # NA design values count as years without a recorded design
        audit.note(stage="designs", source="designs", variable=label, municipality=names[codes[missing]].tolist(),
                   year=year[missing].tolist(), detail="design value missing (NA); year treated as unobserved")
        excluded.append(_units_without_values(codes, missing, names, label, audit))
    keep = ~missing
    if other.any():
        other_values = rows["value"].iloc[order[other]].to_numpy(dtype=object)
        bad_units, other_excluded = _other_categories(codes[other], other_values, names, label, treated_value,
                                                      reference_value, audit)
        excluded.append(other_excluded)
        keep &= ~bad_units[codes]
    codes, year, treated = codes[keep], year[keep], treated[keep]
    if len(codes) == 0:
        raise DesignError(f"{label}: no municipality is left after excluding missing values and other categories")

    same_next = np.zeros(len(codes), dtype=bool)
    same_next[:-1] = codes[1:] == codes[:-1]
    step = np.ones(len(codes), dtype=np.int64)
    step[:-1] = np.where(same_next[:-1], year[1:] - year[:-1], 1)
    if (step > 1).any():
        codes, year, treated, gap_excluded = _handle_gaps(codes, year, treated, step, names, label, gaps, audit)
        excluded.append(gap_excluded)

    units, path, unit_of_row = timing_tables(names, codes, year, treated)
    _note_treated_at_start(units, int(year.min()), label, audit)
    excluded_frame = pd.concat(excluded, ignore_index=True)[EXCLUDED_COLUMNS]
    return TreatmentTiming(dimension=dimension, label=label, treated_value=treated_value,
                           reference_value=reference_value, threshold=None if threshold is None else float(threshold),
                           units=units, path=path, excluded=excluded_frame, audit=audit, _unit_of_row=unit_of_row)


def _refuse_duplicate_years(codes: np.ndarray, year: np.ndarray, names: np.ndarray, dimension: str) -> None:
    """A design history has one value per municipality and year (rows sorted by unit, year)."""
    duplicate = (codes[1:] == codes[:-1]) & (year[1:] == year[:-1])
    if duplicate.any():
        where = np.flatnonzero(duplicate)[:MESSAGE_UNITS]
        pairs = ", ".join(f"{names[codes[i]]} {year[i]}" for i in where)  # message only, at most 10
        raise DesignError(f"{dimension}: {int(duplicate.sum())} duplicate (municipality, year) row(s), e.g. {pairs}; "
                          "a design history has one value per municipality, year and dimension")


def _note_treated_at_start(units: pd.DataFrame, first: int, label: str, audit: AuditLog) -> None:
    """Audit note for municipalities already treated when their history starts (adoption year unknown)."""
    at_start = units.loc[units["treated_at_start"], ["municipality", "first_adoption_year"]]
    if not len(at_start):
        return
    start_year = at_start["first_adoption_year"].astype(str)
    late = (at_start["first_adoption_year"] > first).to_numpy()
    detail = np.where(
        late,
        f"{label} already when its history starts (" + start_year + f"), later than the data ({first}): an "
        "absorbing estimator would take that as its adoption year; use absorbing(treated_at_start='exclude')",
        f"{label} already in the first year of the data (" + start_year + "): adoption year unknown, no "
        "pre-period (flagged treated_at_start; DiD estimators drop it)")
    audit.note(stage="designs", source="designs", variable=label, municipality=at_start["municipality"].tolist(),
               year=at_start["first_adoption_year"].tolist(), detail=detail.tolist())


def _handle_gaps(codes, year, treated, step, names, label, gaps, audit):
    """Refuse, carry forward or exclude missing years inside histories (rows sorted by unit, year)."""
    gap_rows = np.flatnonzero(step > 1)
    # the missing (unit, year) pairs, vectorised: each gap row expands to step - 1 missing years
    n_missing = step[gap_rows] - 1
    from_row = np.repeat(gap_rows, n_missing)
    offset = np.arange(len(from_row)) - np.repeat(np.cumsum(n_missing) - n_missing, n_missing) + 1
    missing = pd.DataFrame({"municipality": names[codes[from_row]], "year": year[from_row] + offset})
    if gaps == "error":
        listing = _years_text(missing)
        shown = "; ".join(f"{m}: {y}" for m, y in listing.head(MESSAGE_UNITS).items())
        more = f" and {len(listing) - MESSAGE_UNITS} more municipalities" if len(listing) > MESSAGE_UNITS else ""
        raise DesignError(
            f"{label}: {len(missing)} year(s) without a recorded design inside the histories of {len(listing)} "
            f"municipalit(y/ies) ({shown}{more}). Complete the source, or pass gaps='carry_forward' (the last "
            "recorded design continues; every filled year is noted) or gaps='exclude' (leave them out).")
    if gaps == "exclude":
        bad_units = np.zeros(len(names), dtype=bool)
        bad_units[codes[gap_rows]] = True
        listing = _years_text(missing)
        reason = f"{label}: no recorded design in year(s) " + listing + " (gaps='exclude')"
        audit.note(stage="designs", source="designs", variable=label, municipality=listing.index.tolist(),
                   detail=("excluded: " + reason).tolist())
        keep = ~bad_units[codes]
        return codes[keep], year[keep], treated[keep], pd.DataFrame(
            {"municipality": listing.index, "reason": reason.to_numpy()})
    # carry_forward: repeat each row over the missing years that follow it
    source_row = np.repeat(np.arange(len(codes)), step)
    offset = np.arange(len(source_row)) - np.repeat(np.cumsum(step) - step, step)
    filled = offset > 0
    prior_year = year[source_row[filled]]
    audit.note(stage="designs", source="designs", variable=label,
               municipality=names[codes[source_row[filled]]].tolist(), year=(prior_year + offset[filled]).tolist(),
               detail=("no recorded design; carried forward the design of " + pd.Series(prior_year).astype(str)
                       + " (gaps='carry_forward')").tolist())
    return codes[source_row], year[source_row] + offset, treated[source_row], empty_excluded()


def compare_categories(
    designs,
    dimension: str,
    reference: str | None = None,
    *,
    years: Iterable[int] | None = None,
    gaps: str = "error",
    audit: AuditLog | None = None,
    extra_dimensions: Iterable[Dimension] = (),
) -> dict[str, TreatmentTiming]:
    """One :class:`TreatmentTiming` per non-reference category of a binary or categorical dimension.

    Each compares municipalities adopting that category with municipalities in ``reference``
    (default: the catalogue's reference category); municipalities ever observed in another
    non-reference category are excluded from that comparison, each with an audit note.
    Returns ``{category: TreatmentTiming}`` in catalogue order.  All notes go to one ``audit`` log.
    """
    spec = get_dimension(dimension, extra_dimensions)
    if spec.kind == "score":
        raise DesignError(f"{dimension} is a score: use derive_treatment(..., threshold=...) instead")
    reference = spec.reference if reference is None else reference
    if reference not in spec.categories:
        raise DesignError(f"{dimension}: reference={reference!r} is not a category; allowed: {spec.allowed_text()}")
    audit = AuditLog() if audit is None else audit
    return {category: derive_treatment(designs, dimension=dimension, treated_value=category,
                                       reference_value=reference, years=years, gaps=gaps, audit=audit,
                                       extra_dimensions=extra_dimensions)
            for category in spec.categories if category != reference}
