"""Cost lines per municipality and year: Iv3 taakvelden, social-domain groupings and other payers.

All amounts are **constant euros of the panel's price base year per inhabitant per year**
(``population_total`` of the same municipality-year).  Per-inhabitant amounts add up across
lines because they share one denominator, so a domain is the sum of its taakvelden.

Domains (Iv3 programme 6 Sociaal domein; taakvelden exist since the 2017 accounts):

=======================  ==========================================================================
domain                   taakvelden
=======================  ==========================================================================
``youth``                6.72 Maatwerkdienstverlening 18-, 6.82 Geëscaleerde zorg 18-
``adult_support``        6.6 Maatwerkvoorzieningen (Wmo), 6.71 Maatwerkdienstverlening 18+,
                         6.81 Geëscaleerde zorg 18+
``access``               6.2 Toegang en eerstelijnsvoorzieningen (formerly "Wijkteams")
``basic``                6.1 Samenkracht en burgerparticipatie
``income_participation`` 6.3 Inkomensregelingen, 6.4 Begeleide participatie, 6.5 Arbeidsparticipatie
=======================  ==========================================================================

``total_social_domain`` is the sum of the ten taakvelden.  Cost lines of other payers (health
insurer, justice, education) are added with :func:`add_cost_line`; they enter
``total_societal_cost`` (= ``total_social_domain`` + added lines) but never ``total_social_domain``.

Missing values are never treated as zero: a missing line makes its domain and the totals NA for
that municipality-year, and every such municipality-year is reported (audit note and
``frame.attrs["missing"]``).
"""
from __future__ import annotations

import dataclasses
import re

import pandas as pd

from effectmeting.errors import HarmonisationError
from effectmeting.harmonise.panel import KEY_COLUMNS, Panel

#: domain -> Iv3 taakvelden (see the module docstring for their names)
DOMAINS: dict[str, tuple[str, ...]] = {
    "youth": ("6.72", "6.82"),
    "adult_support": ("6.6", "6.71", "6.81"),
    "access": ("6.2",),
    "basic": ("6.1",),
    "income_participation": ("6.3", "6.4", "6.5"),
}
TAAKVELDEN: tuple[str, ...] = ("6.1", "6.2", "6.3", "6.4", "6.5", "6.6", "6.71", "6.72", "6.81", "6.82")
TAAKVELD_NAMES = {
    "6.1": "Samenkracht en burgerparticipatie", "6.2": "Toegang en eerstelijnsvoorzieningen",
    "6.3": "Inkomensregelingen", "6.4": "Begeleide participatie", "6.5": "Arbeidsparticipatie",
    "6.6": "Maatwerkvoorzieningen (Wmo)", "6.71": "Maatwerkdienstverlening 18+",
    "6.72": "Maatwerkdienstverlening 18-", "6.81": "Geëscaleerde zorg 18+", "6.82": "Geëscaleerde zorg 18-",
}
SOCIAL_TOTAL = "total_social_domain"
SOCIETAL_TOTAL = "total_societal_cost"
ADDED_PREFIX = "added_cost_"
#: accepted ``unit`` values of :func:`add_cost_line`
ADDED_UNITS = ("euro", "constant_euro", "constant_euro_per_inhabitant")
_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


def taakveld_column(taakveld: str) -> str:
    """Per-inhabitant panel column of a taakveld: ``6.72`` -> ``cost_6_72_per_inhabitant``."""
    return f"cost_{taakveld.replace('.', '_')}_per_inhabitant"


def added_column(name: str) -> str:
    """Per-inhabitant panel column of an added cost line: ``zvw`` -> ``added_cost_zvw_per_inhabitant``."""
    return f"{ADDED_PREFIX}{name}_per_inhabitant"


def added_line_names(panel: Panel) -> list[str]:
    """Names of the cost lines added with :func:`add_cost_line`, in column order."""
    pattern = re.compile(rf"^{ADDED_PREFIX}(.+)_per_inhabitant$")
    return [m.group(1) for c in panel.data.columns if (m := pattern.match(c))]


def _per_inhabitant(data: pd.DataFrame, taakveld: str) -> pd.Series | None:
    """The taakveld per inhabitant: the panel's rate column, else euros / population_total."""
    column = taakveld_column(taakveld)
    if column in data.columns:
        return data[column].astype("float64")
    euros = f"cost_{taakveld.replace('.', '_')}"
    if euros in data.columns and "population_total" in data.columns:
        return data[euros].astype("float64") / data["population_total"].astype("float64")
    return None


def cost_lines(panel: Panel, *, note: bool = True) -> pd.DataFrame:
    """Per-inhabitant constant euros per taakveld, per domain, ``total_social_domain`` and added lines.

    Returns one row per panel row: ``municipality, year``, one column per taakveld
    (``cost_6_72_per_inhabitant``, ...), one per domain (:data:`DOMAINS`), ``total_social_domain``,
    then every added line (``added_cost_<name>_per_inhabitant``) and ``total_societal_cost`` when
    there are added lines.  Unit: constant euros of ``panel.price_base_year`` per inhabitant per year.

    A taakveld missing in a municipality-year makes its domain and the totals NA there (never 0);
    those municipality-years are listed in ``result.attrs["missing"]`` (``municipality, year, line``)
    and noted in ``panel.audit`` (stage ``costs``; ``note=False`` skips the notes, for callers that
    record their own exclusions).  A taakveld absent from the whole panel leaves its domain and the
    totals out, also noted.
    """
    data = panel.data
    out = data[KEY_COLUMNS].copy()
    absent = []
    for taakveld in TAAKVELDEN:
        values = _per_inhabitant(data, taakveld)
        if values is None:
            absent.append(taakveld)
        else:
            out[taakveld_column(taakveld)] = values.to_numpy()
    for domain, members in DOMAINS.items():
        if not any(t in absent for t in members):
            # min_count = all lines: one NA line makes the domain NA (never summed as 0)
            out[domain] = out[[taakveld_column(t) for t in members]].sum(axis=1, min_count=len(members))
    if not absent:
        out[SOCIAL_TOTAL] = out[list(DOMAINS)].sum(axis=1, min_count=len(DOMAINS))
    added = [added_column(name) for name in added_line_names(panel)]
    for column in added:
        out[column] = data[column].astype("float64").to_numpy()
    if added and not absent:
        parts = [SOCIAL_TOTAL, *added]
        out[SOCIETAL_TOTAL] = out[parts].sum(axis=1, min_count=len(parts))

    line_columns = [taakveld_column(t) for t in TAAKVELDEN if t not in absent] + added
    missing = out.melt(id_vars=KEY_COLUMNS, value_vars=line_columns, var_name="line")
    missing = missing.loc[missing["value"].isna(), [*KEY_COLUMNS, "line"]].reset_index(drop=True)
    if note and len(missing):
        panel.audit.note(stage="costs", source="cost_lines", variable=missing["line"].tolist(),
                         municipality=missing["municipality"].tolist(), year=missing["year"].tolist(),
                         detail="cost line missing: its domain and the totals are NA for this "
                                "municipality-year (not counted as 0)")
    if note and absent:
        panel.audit.note(stage="costs", source="cost_lines", variable=[taakveld_column(t) for t in absent],
                         detail=[f"taakveld {t} ({TAAKVELD_NAMES[t]}) is not in the panel: its domain and "
                                 "the totals are left out" for t in absent])
    out.attrs = {"missing": missing, "absent_taakvelden": absent,
                 "unit": f"constant euros of {panel.price_base_year} per inhabitant per year"}
    return out


def add_cost_line(panel: Panel, frame: pd.DataFrame, *, name: str, source: str, unit: str = "euro",
                  value_column: str = "value", price_index: pd.DataFrame | pd.Series | None = None,
                  description: str = "") -> Panel:
    """A copy of ``panel`` with a cost line of another payer (health insurer, justice, ...).

    ``frame``: ``municipality, year, <value_column>`` with municipality codes of the panel's
    reference year (already harmonised to its boundaries: the crosswalk needs a source's own
    codes per year and is applied by :func:`effectmeting.harmonise.pipeline.harmonise`).
    ``unit``: ``"euro"`` (nominal euros per year; needs ``price_index`` with ``year, index`` and
    is deflated to the panel's price base year), ``"constant_euro"`` (already in constant euros of
    the price base year) or ``"constant_euro_per_inhabitant"``.
    ``name``: lower-case identifier (``zvw_mental_health``); ``source``: where the numbers come from.

    The panel gets ``added_cost_<name>`` (constant euros; not for per-inhabitant input) and
    ``added_cost_<name>_per_inhabitant`` (over ``population_total``), a ``variables`` row per
    column with ``source`` recorded, and audit notes.  Municipality-years of the panel absent from
    ``frame`` stay NA (reported by :func:`cost_lines`).  Raises :class:`HarmonisationError` for
    unknown codes, years outside the panel, duplicate rows or non-numeric values.
    """
    if not _NAME_PATTERN.match(name or ""):
        raise HarmonisationError(f"add_cost_line: name={name!r}; use a lower-case identifier such as 'zvw_ggz'")
    if not source or not str(source).strip():
        raise HarmonisationError(f"add_cost_line({name!r}): give the source of the numbers (source=...)")
    if unit not in ADDED_UNITS:
        raise HarmonisationError(f"add_cost_line({name!r}): unit={unit!r}; use one of {list(ADDED_UNITS)}")
    column = added_column(name)
    if column in panel.data.columns:
        raise HarmonisationError(f"add_cost_line: the panel already has a cost line {name!r} ({column})")
    required = [*KEY_COLUMNS, value_column]
    lacking = [c for c in required if c not in frame.columns]
    if lacking:
        raise HarmonisationError(f"add_cost_line({name!r}): frame lacks column(s) {lacking}; "
                                 f"expected {required} (available: {list(frame.columns)})")
    rows = frame[required].copy()
    rows["year"] = pd.to_numeric(rows["year"], errors="coerce")
    values = pd.to_numeric(rows[value_column], errors="coerce")
    bad_value = (values.isna() & rows[value_column].notna()) | rows["year"].isna()
    if bad_value.any():
        first = rows.loc[bad_value].iloc[0]
        raise HarmonisationError(
            f"add_cost_line({name!r}): {int(bad_value.sum())} row(s) with a non-numeric year or "
            f"{value_column!r}, e.g. row {rows.index[bad_value][0]}: year {first['year']!r}, value "
            f"{first[value_column]!r}; fix or remove them (missing values may be left empty)")
    rows["year"] = rows["year"].astype("int64")
    _check_keys(panel, rows, name)
    rows["value"] = values.astype("float64")

    merged = panel.data[KEY_COLUMNS].merge(rows[[*KEY_COLUMNS, "value"]], on=KEY_COLUMNS, how="left")
    base = panel.price_base_year
    data = panel.data.copy()
    new_variables = []
    if unit == "constant_euro_per_inhabitant":
        data[column] = merged["value"].to_numpy()
    else:
        euros = merged[["year", "value"]]
        if unit == "euro":
            if price_index is None or base is None:
                raise HarmonisationError(
                    f"add_cost_line({name!r}): unit='euro' (nominal) needs price_index= (year, index) and a "
                    "panel with a price base year; or pass unit='constant_euro' for amounts already deflated")
            from effectmeting.harmonise.prices import deflate

            euros = deflate(euros, ["value"], price_index, base, audit=panel.audit)
        data[f"{ADDED_PREFIX}{name}"] = euros["value"].to_numpy()
        data[column] = euros["value"].to_numpy() / data["population_total"].astype("float64").to_numpy()
        new_variables.append({"name": f"{ADDED_PREFIX}{name}", "unit": f"constant euros of {base}",
                              "source": source, "description": description or f"added cost line {name}"})
    new_variables.append({"name": column, "unit": f"constant euros of {base} per inhabitant", "source": source,
                          "description": (description or f"added cost line {name}") + "; in total_societal_cost, "
                          "not in total_social_domain"})
    variables = pd.concat([panel.variables, pd.DataFrame(new_variables)], ignore_index=True)
    panel.audit.note(stage="costs", source=source, variable=column,
                     detail=f"cost line {name!r} added from {source} ({len(rows)} rows, unit {unit}); "
                            f"{int(merged['value'].isna().sum())} panel municipality-years without a value")
    return dataclasses.replace(panel, data=data, variables=variables)


def _check_keys(panel: Panel, rows: pd.DataFrame, name: str) -> None:
    """Codes must be panel (reference-year) municipalities, years panel years, keys unique."""
    known = set(panel.data["municipality"].unique())
    unknown = ~rows["municipality"].isin(known)
    if unknown.any():
        codes = sorted(set(rows.loc[unknown, "municipality"].astype(str)))
        raise HarmonisationError(
            f"add_cost_line({name!r}): {int(unknown.sum())} row(s) name municipalities that are not in the panel "
            f"(reference year {panel.reference_year}): {codes[:20]} (first rows {list(rows.index[unknown][:5])}). "
            "Map the source to the reference year's codes first (e.g. with effectmeting.to_reference_year)")
    years = set(panel.data["year"].unique())
    outside = ~rows["year"].isin(years)
    if outside.any():
        raise HarmonisationError(
            f"add_cost_line({name!r}): year(s) {sorted(set(rows.loc[outside, 'year']))} are not panel years "
            f"({min(years)}-{max(years)}); remove those rows")
    duplicated = rows.duplicated(KEY_COLUMNS, keep=False)
    if duplicated.any():
        first = rows.loc[duplicated].iloc[0]
        raise HarmonisationError(
            f"add_cost_line({name!r}): {int(duplicated.sum())} rows repeat a municipality-year, e.g. "
            f"{first['municipality']} {first['year']}; give one value per municipality and year")
