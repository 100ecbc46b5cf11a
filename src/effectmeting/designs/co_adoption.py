"""Co-adoption diagnostic: did municipalities adopt two design choices at about the same time?

When municipalities that adopt design A also adopt design B within a year or two, a study of A
compares adopters of "A and, often, B" with non-adopters: the estimated effect of A can be (partly)
the effect of B.  :func:`co_adoption` measures this per ordered pair of designs from the design
histories alone (no outcomes), so a study can warn before anyone reads its estimates.

Definitions (``design`` = ``dimension=value``, or ``dimension>=threshold`` for a score):

* a municipality *adopts* a design in a year when the design is in force that year and was not in
  its previous observed year (design histories record the design on 1 January).  Its *adoption
  year* is the first such year.  Having the design already in the first observed year is not an
  adoption (the year is unknown), so those municipalities are not adopters;
* *adopted B within k years of A*: an adopter of A that adopted B (at any of its adoptions of B) in
  a year within ``[adoption year of A - k, adoption year of A + k]``;
* the *correlation of adoption years*: Pearson correlation of the adoption years of A and of B
  among municipalities that adopted both (NaN with fewer than 3 of them or no variation).

A pair is *flagged* when at least ``threshold`` (default 0.3) of A's adopters adopted B within
``k`` years, at least ``min_count`` (default 5) municipalities did so, and the adoption years of
A and B correlate at least ``min_correlation`` (default 0.3) among municipalities that adopted
both.  The share is a reading aid, not a test: at 30 % the contrast "adopters of A against
non-adopters" mixes in a large share of B's effect, unless B's effect is small.  The correlation
condition keeps out designs that are merely common: when most municipalities adopt B at some
time in a ten-year panel, a +-2-year window catches a third of A's adopters by chance (in the
demo, 42 % of the adopters of specialists in the team adopted 'gives help' within 2 years, with a
correlation of adoption years of -0.05).  Pairs of the same dimension are left out (its
categories exclude each other).
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from effectmeting.designs.dimensions import DESIGN_COLUMNS, Dimension, DesignError, catalogue
from effectmeting.designs.spec import DesignSpec, parse_design

#: years either side of A's adoption within which an adoption of B counts as co-adoption
DEFAULT_WINDOW = 2
#: share of A's adopters that adopted B within the window from which a pair is flagged
DEFAULT_THRESHOLD = 0.3
#: fewest co-adopting municipalities for a flag (a share of 1 in 2 says nothing)
DEFAULT_MIN_COUNT = 5
#: smallest correlation of adoption years (among municipalities adopting both) for a flag
DEFAULT_MIN_CORRELATION = 0.3
#: fewest municipalities that adopted both for a correlation of adoption years
MIN_CORRELATION_UNITS = 3

CO_ADOPTION_COLUMNS = ["design_a", "design_b", "adopters_a", "adopters_b", "adopters_both", "adopted_b_within",
                       "share_adopted_b_within", "year_correlation", "window_years", "flagged"]


def _design_frame(designs) -> pd.DataFrame:
    frame = getattr(designs, "designs", designs)
    if not isinstance(frame, pd.DataFrame):
        raise DesignError(f"designs must be a DataFrame ({', '.join(DESIGN_COLUMNS)}) or a Panel, "
                          f"got {type(designs).__name__}")
    missing = [c for c in DESIGN_COLUMNS if c not in frame.columns]
    if missing:
        raise DesignError(f"design history lacks column(s) {missing}; expected {DESIGN_COLUMNS}")
    return frame


def default_designs(designs, extra_dimensions: Iterable[Dimension] = ()) -> list[str]:
    """Every non-reference category of the binary and categorical catalogue dimensions present in
    the history (``dimension=value`` texts, catalogue order); score dimensions need a threshold
    and are left out."""
    frame = _design_frame(designs)
    present = frame.dropna(subset=["value"]).groupby("dimension", sort=False)["value"].unique()
    found = []
    for name, dimension in catalogue(extra_dimensions).items():
        if dimension.kind == "score" or name not in present.index:
            continue
        values = {str(v) for v in present[name]}
        found += [f"{name}={value}" for value in dimension.non_reference if value in values]
    return found


def _in_force(values: pd.Series, spec: DesignSpec) -> np.ndarray:
    """Whether ``spec`` holds for each recorded value of its dimension."""
    if spec.threshold is not None:
        score = pd.to_numeric(values.astype(str), errors="coerce").to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            return score >= spec.threshold
    return (values.astype(str) == spec.treated_value).to_numpy(dtype=bool)


def adoption_years(designs, design: str | DesignSpec) -> pd.DataFrame:
    """Every adoption of one design: ``municipality, year`` (year the design is first in force after
    a year without it; rows with a missing value are skipped), sorted by municipality and year."""
    frame = _design_frame(designs)
    spec = parse_design(design)
    rows = frame.loc[(frame["dimension"] == spec.dimension) & frame["value"].notna(), ["municipality", "year", "value"]]
    rows = rows.sort_values(["municipality", "year"], kind="mergesort")
    held = _in_force(rows["value"], spec)
    municipality = rows["municipality"].to_numpy()
    same_unit = np.zeros(len(rows), dtype=bool)
    same_unit[1:] = municipality[1:] == municipality[:-1]
    previous = np.zeros(len(rows), dtype=bool)
    previous[1:] = held[:-1]
    entered = held & same_unit & ~previous
    return pd.DataFrame({"municipality": municipality[entered],
                         "year": rows["year"].to_numpy()[entered].astype("int64")})


def _pair_row(a: str, b: str, entries_a: pd.DataFrame, entries_b: pd.DataFrame, window: int,
              rule: tuple[float, int, float]) -> dict:
    """One row of :func:`co_adoption`; ``rule`` = (threshold, min_count, min_correlation)."""
    threshold, min_count, min_correlation = rule
    first_a = entries_a.groupby("municipality", sort=True)["year"].min()
    first_b = entries_b.groupby("municipality", sort=True)["year"].min()
    joined = entries_b.assign(year_a=entries_b["municipality"].map(first_a)).dropna(subset=["year_a"])
    within = joined.loc[(joined["year"] - joined["year_a"]).abs() <= window, "municipality"].nunique()
    both = first_a.index.intersection(first_b.index)
    correlation = np.nan
    if len(both) >= MIN_CORRELATION_UNITS:
        years_a = first_a.loc[both].to_numpy(dtype=float)
        years_b = first_b.loc[both].to_numpy(dtype=float)
        if years_a.std() > 0 and years_b.std() > 0:
            correlation = float(np.corrcoef(years_a, years_b)[0, 1])
    share = within / len(first_a) if len(first_a) else np.nan
    return {"design_a": a, "design_b": b, "adopters_a": len(first_a), "adopters_b": len(first_b),
            "adopters_both": len(both), "adopted_b_within": int(within), "share_adopted_b_within": share,
            "year_correlation": correlation, "window_years": window,
            "flagged": bool(len(first_a) and share >= threshold and within >= min_count
                            and correlation >= min_correlation)}


def co_adoption(designs, *, designs_a: Iterable[str] | None = None, designs_b: Iterable[str] | None = None,
                window: int = DEFAULT_WINDOW, threshold: float = DEFAULT_THRESHOLD,
                min_count: int = DEFAULT_MIN_COUNT, min_correlation: float = DEFAULT_MIN_CORRELATION,
                extra_dimensions: Iterable[Dimension] = ()) -> pd.DataFrame:
    """Per ordered pair of designs (A, B) of different dimensions, how often A's adopters adopted B too.

    Parameters
    ----------
    designs : a design history (``municipality, year, dimension, value``) or a Panel (its ``.designs``).
    designs_a, designs_b : ``dimension=value`` (or ``dimension>=threshold``) texts; default every
        non-reference category of the binary and categorical dimensions in the history
        (:func:`default_designs`).  ``designs_b`` defaults to ``designs_a``'s default list.
    window : ``k``, years either side of A's adoption year (default 2).
    threshold, min_count, min_correlation : a pair is flagged when ``share_adopted_b_within >=
        threshold``, ``adopted_b_within >= min_count`` and ``year_correlation >= min_correlation``
        (defaults 0.3, 5 and 0.3; see the module docstring).

    Returns a DataFrame with columns :data:`CO_ADOPTION_COLUMNS`, one row per pair: numbers of
    municipalities (``adopters_a``, ``adopters_b``, ``adopters_both``, ``adopted_b_within``),
    ``share_adopted_b_within`` = ``adopted_b_within / adopters_a`` (NaN without adopters),
    ``year_correlation`` (Pearson, NaN below 3 municipalities adopting both), ``window_years``,
    ``flagged``.  Definitions of adopting are in the module docstring.
    """
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 0:
        raise DesignError(f"window={window!r}: give a whole number of years >= 0")
    if not 0 < float(threshold) <= 1:
        raise DesignError(f"threshold={threshold!r}: give a share between 0 and 1")
    frame = _design_frame(designs)
    defaults = default_designs(frame, extra_dimensions)
    first = [parse_design(d) for d in (defaults if designs_a is None else designs_a)]
    second = [parse_design(d) for d in (defaults if designs_b is None else designs_b)]
    entries = {spec.text: adoption_years(frame, spec) for spec in {s.text: s for s in first + second}.values()}
    rule = (float(threshold), int(min_count), float(min_correlation))
    rows = [_pair_row(a.text, b.text, entries[a.text], entries[b.text], int(window), rule)
            for a in first for b in second if a.dimension != b.dimension]
    table = pd.DataFrame(rows, columns=CO_ADOPTION_COLUMNS)
    return table.astype({"adopters_a": "int64", "adopters_b": "int64", "adopters_both": "int64",
                         "adopted_b_within": "int64", "share_adopted_b_within": "float64",
                         "year_correlation": "float64", "window_years": "int64", "flagged": "bool"})
