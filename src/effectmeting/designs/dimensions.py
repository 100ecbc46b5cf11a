"""Catalogue of design dimensions (inrichtingskeuzes) of local social teams, and validation of design histories.

A *design history* is the long table ``municipality, year, dimension, value`` (``Panel.designs``;
schema ``data_schema/designs.json``): the design in force on 1 January of each year.  Each dimension
in the catalogue has a *kind*:

``binary``
    exactly two categories; the ``reference`` category is the comparison ("untreated") state and the
    other one is the treatment by default.
``categorical``
    three or more categories; a study compares each non-reference category with the reference
    (:func:`effectmeting.designs.treatments.compare_categories`).
``score``
    a number between ``score_min`` and ``score_max`` (e.g. a 0-5 self-evaluated maturity of one
    KPMG basic function); treatment is "score >= a threshold the study chooses".

The categories follow the practice described by KPMG (2019, *Basisfuncties voor lokale teams*),
the Associatie Wijkteams and the G5 publication *Sociale wijkteams in ontwikkeling* (2014).
A study may register its own dimensions (or replace a catalogue entry, e.g. a 0-10 maturity scale)
by passing :class:`Dimension` objects as ``extra_dimensions``.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

# DesignError and DesignValidationError live in effectmeting.errors; re-exported here for compatibility
from effectmeting.errors import DesignError, DesignValidationError

Kind = Literal["binary", "categorical", "score"]
KINDS = ("binary", "categorical", "score")
DESIGN_COLUMNS = ["municipality", "year", "dimension", "value"]
#: failures listed in an error message; the full list is in the error's ``failures`` frame
MESSAGE_LINES = 20


@dataclass(frozen=True)
class Dimension:
    """One design dimension: its kind, categories (codes -> meaning), reference category and description.

    ``categories`` maps an English code (the ``value`` in a design history) to its meaning, with
    the Dutch term where there is one.  Score dimensions have no categories; their values are
    numbers in ``[score_min, score_max]`` (decimals allowed: self-evaluations are often averages).
    """

    name: str
    kind: Kind
    description: str
    categories: Mapping[str, str] = field(default_factory=dict)
    reference: str | None = None
    score_min: float | None = None
    score_max: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DesignError(f"dimension {self.name!r}: kind {self.kind!r} is not one of {list(KINDS)}")
        if self.kind == "score":
            if self.categories or self.reference is not None:
                raise DesignError(f"dimension {self.name!r}: a score dimension has no categories or reference")
            if self.score_min is None or self.score_max is None or not self.score_min < self.score_max:
                raise DesignError(f"dimension {self.name!r}: a score dimension needs score_min < score_max")
            return
        need = 2 if self.kind == "binary" else 3
        if (self.kind == "binary" and len(self.categories) != 2) or len(self.categories) < need:
            raise DesignError(f"dimension {self.name!r}: a {self.kind} dimension needs "
                              f"{'exactly 2' if self.kind == 'binary' else 'at least 3'} categories, "
                              f"got {list(self.categories)}")
        if self.reference not in self.categories:
            raise DesignError(f"dimension {self.name!r}: reference {self.reference!r} is not one of its "
                              f"categories {list(self.categories)}")

    @property
    def allowed(self) -> list[str]:
        """Category codes in catalogue order (empty for a score)."""
        return list(self.categories)

    @property
    def non_reference(self) -> list[str]:
        """Categories other than the reference, in catalogue order."""
        return [c for c in self.categories if c != self.reference]

    def allowed_text(self) -> str:
        """Human-readable allowed values, for error messages."""
        if self.kind == "score":
            return f"a number from {self.score_min:g} to {self.score_max:g}"
        return ", ".join(self.categories)


#: The five KPMG basic functions (basisfuncties) -> (code suffix, Dutch name, meaning).
BASIC_FUNCTIONS: dict[str, tuple[str, str]] = {
    "safe_environment": ("Veilige leefomgeving", "always keep an eye on a safe living environment"),
    "early_signalling": ("Tijdig signaleren", "be present in the neighbourhood, outreach, prevention"),
    "accessible_help": ("Vindbare en toegankelijke hulp", "findable, accessible help and good triage"),
    "broad_view": ("Handelen met een brede blik",
                   "one plan per household, clear direction (regie) and follow-up"),
    "learning": ("Leren en verbeteren", "collect insight, discuss it and dare to change"),
}
MATURITY_MAX = 5.0

_CATALOGUE: list[Dimension] = [
    Dimension(
        "role", "binary",
        "What the team does for residents: only access (the team as a 'loket') or also help itself "
        "(KPMG 2019: 'lokale teams leveren ook zelf (kortdurende) concrete ondersteuning').",
        {"triage_only": "'loket': triage, assessment (indicatiestelling) and referral to providers only",
         "gives_help": "the team gives concrete short help itself (zelf kortdurende concrete ondersteuning) "
                       "besides triage and referral"},
        reference="triage_only"),
    Dimension(
        "target_group", "categorical",
        "Which residents the team serves (doelgroep). The reference is a youth team, the most common "
        "separate team; compare all_ages with it, or pass another reference.",
        {"youth": "youth team (jeugdteam, jeugd- en gezinsteam) for children 0-17 (23) and their families",
         "adults": "adult team (Wmo-team, volwassenenteam) for residents 18+",
         "all_ages": "one integrated team for all ages ('0-100', integraal wijkteam)"},
        reference="youth"),
    Dimension(
        "expertise", "binary",
        "Expertise inside the team (deskundigheid): generalists only, or generalists backed by "
        "specialists (e.g. a behavioural scientist, gedragswetenschapper) in the team.",
        {"generalists": "generalists (generalisten) only",
         "generalists_with_specialists": "generalists backed by specialists in the team "
                                         "(generalisten met specialisten, e.g. gedragswetenschapper)"},
        reference="generalists"),
    Dimension(
        "organisation", "categorical",
        "Organisational form (organisatievorm) of the team.",
        {"in_house": "run by the municipality itself (gemeentelijke uitvoering, in dienst van de gemeente)",
         "foundation": "an independent foundation set up for the team (zelfstandige stichting)",
         "contracted": "contracted out to one or more providers (uitbesteed / ingekocht)"},
        reference="in_house"),
    Dimension(
        "integrated_budget", "binary",
        "Whether youth care, Wmo, participation and debt help share one budget (ontschotte budgetten).",
        {"no": "separate budgets per law (verkokerde budgetten)",
         "yes": "one integrated budget (ontschot budget) for the team's domains"},
        reference="no"),
    Dimension(
        "purchasing", "binary",
        "Purchasing model (inkoopmodel) of the specialised help the team refers to.",
        {"open_house": "many providers admitted on standard terms (open house)",
         "few_providers": "few providers with shared responsibility for results "
                          "(beperkt aantal aanbieders, gedeelde verantwoordelijkheid)"},
        reference="open_house"),
    Dimension(
        "scope", "binary",
        "Domains handled by one team (reikwijdte): separate counters per domain, or youth, Wmo, "
        "participation and debt help in one team (integrale toegang).",
        {"separate_counters": "separate counters (loketten) per domain",
         "all_domains": "youth, Wmo, participation and debt help (schuldhulp) in one team"},
        reference="separate_counters"),
    Dimension(
        "maturity", "score",
        f"Overall maturity of the basic functions (basisfuncties), 0-{MATURITY_MAX:g}, e.g. the mean of the "
        "five maturity_<function> scores of a municipal self-evaluation.",
        score_min=0.0, score_max=MATURITY_MAX),
    *[
        Dimension(
            f"maturity_{code}", "score",
            f"Maturity of KPMG basic function '{dutch}' ({meaning}), 0-{MATURITY_MAX:g}, from a municipal "
            "self-evaluation (0 = not secured, higher = better secured).",
            score_min=0.0, score_max=MATURITY_MAX)
        for code, (dutch, meaning) in BASIC_FUNCTIONS.items()
    ],
]

#: The built-in catalogue: dimension name -> :class:`Dimension`.
DIMENSIONS: dict[str, Dimension] = {d.name: d for d in _CATALOGUE}


def catalogue(extra_dimensions: Iterable[Dimension] = ()) -> dict[str, Dimension]:
    """The catalogue plus user-registered dimensions (a user dimension replaces a catalogue one of the same name)."""
    result = dict(DIMENSIONS)
    for dimension in extra_dimensions:
        if not isinstance(dimension, Dimension):
            raise DesignError(f"extra_dimensions must hold Dimension objects, got {type(dimension).__name__}")
        result[dimension.name] = dimension
    return result


def get_dimension(name: str, extra_dimensions: Iterable[Dimension] = ()) -> Dimension:
    """The :class:`Dimension` called ``name``; :class:`DesignError` listing the known ones if unknown."""
    known = catalogue(extra_dimensions)
    if name not in known:
        raise DesignError(f"design dimension {name!r} is not in the catalogue; known dimensions: "
                          f"{', '.join(known)}. Register a study-specific one with "
                          "extra_dimensions=[Dimension(...)].")
    return known[name]


def describe_dimensions(extra_dimensions: Iterable[Dimension] = ()) -> str:
    """Markdown documentation of the catalogue: one section per dimension with its categories."""
    lines = ["# Design dimensions (inrichtingskeuzes)", ""]
    for dimension in catalogue(extra_dimensions).values():
        lines += [f"## `{dimension.name}` ({dimension.kind})", "", dimension.description, ""]
        if dimension.kind == "score":
            lines += [f"Values: a number from {dimension.score_min:g} to {dimension.score_max:g}; a study "
                      "chooses the threshold that counts as treated (`threshold=`).", ""]
            continue
        lines += ["| value | meaning | reference |", "|---|---|---|"]
        lines += [f"| `{code}` | {meaning} | {'yes' if code == dimension.reference else ''} |"
                  for code, meaning in dimension.categories.items()]
        lines.append("")
    return "\n".join(lines)


def _row_labels(designs: pd.DataFrame) -> pd.Series:
    """Row numbers for messages: ``source_row`` when the frame carries it, otherwise the index label."""
    if "source_row" in designs.columns:
        return designs["source_row"].reset_index(drop=True)
    return pd.Series(designs.index, dtype="object")


def validate_designs(designs: pd.DataFrame, *, extra_dimensions: Iterable[Dimension] = (),
                     allow_missing: bool = False, check_duplicates: bool = True,
                     source_file: str | None = None) -> pd.DataFrame:
    """Check a design history against the catalogue; return it unchanged, or raise with every failure.

    Checks: the columns ``municipality, year, dimension, value`` exist; every dimension is in the
    catalogue (or ``extra_dimensions``); every value is one of its dimension's categories (scores:
    a number within range); no value is missing unless ``allow_missing`` (e.g. NA set by
    ``design_rule='unanimous'`` when merging predecessors disagreed); no (municipality, year,
    dimension) occurs twice (skipped with ``check_duplicates=False`` by callers that check it
    themselves more cheaply).  Raises :class:`DesignValidationError` whose ``failures`` frame has one
    row per failing row (``row`` = ``source_row`` column if present, else the index label).
    """
    where = f"{source_file}: " if source_file else ""
    missing_columns = [c for c in DESIGN_COLUMNS if c not in designs.columns]
    if missing_columns:
        raise DesignValidationError(f"{where}design history lacks column(s) {missing_columns}; expected "
                                    f"{DESIGN_COLUMNS} (long format, one row per municipality, year, dimension)")
    known = catalogue(extra_dimensions)
    frame = designs[DESIGN_COLUMNS].reset_index(drop=True)
    dimension, value = frame["dimension"], frame["value"]
    problem = np.full(len(frame), None, dtype=object)

    is_known = dimension.isin(list(known)).to_numpy(dtype=bool)
    problem[~is_known] = ("unknown dimension; known dimensions: " + ", ".join(known)
                          + " (register others with extra_dimensions=[Dimension(...)])")
    is_missing = value.isna().to_numpy(dtype=bool)
    if not allow_missing:
        problem[is_known & is_missing] = "missing value"
    # one pass per dimension present (a handful), each vectorised over its rows
    for name in pd.unique(dimension[is_known & ~is_missing]):
        spec = known[name]
        rows = ((dimension == name).to_numpy(dtype=bool) & ~is_missing)
        if spec.kind == "score":
            score = pd.to_numeric(value[rows].astype(str), errors="coerce").to_numpy(dtype=float)
            with np.errstate(invalid="ignore"):
                ok = (score >= spec.score_min) & (score <= spec.score_max)
            kind_problem = "not a valid score"
        else:
            ok = value[rows].astype(str).isin(spec.allowed).to_numpy(dtype=bool)
            kind_problem = "not a category of this dimension"
        bad = np.flatnonzero(rows)[~ok]
        problem[bad] = f"{kind_problem}; allowed: {spec.allowed_text()}"
    if check_duplicates:
        duplicated = frame.duplicated(["municipality", "year", "dimension"], keep=False).to_numpy()
        problem[duplicated & pd.isna(problem)] = (
            "duplicate (municipality, year, dimension): a design history has one value per year")

    failing = pd.notna(problem)
    if failing.any():
        failures = pd.DataFrame({
            "row": _row_labels(designs)[failing].to_numpy(), "municipality": frame["municipality"][failing].to_numpy(),
            "year": frame["year"][failing].to_numpy(), "dimension": dimension[failing].to_numpy(),
            "value": value[failing].to_numpy(), "problem": problem[failing]}).reset_index(drop=True)
        shown = failures.head(MESSAGE_LINES)
        lines = [f"  row {r.row} ({r.municipality}, {r.year}): {r.dimension} = {r.value!r}: {r.problem}"
                 for r in shown.itertuples()]  # at most MESSAGE_LINES lines of the message, not the data
        more = f"\n  ... and {len(failures) - len(shown)} more (see the error's .failures)" \
            if len(failures) > len(shown) else ""
        raise DesignValidationError(
            f"{where}{len(failures)} design row(s) break the design catalogue:\n" + "\n".join(lines) + more
            + "\nFix the values in the source, or register the dimension with extra_dimensions=[Dimension(...)].",
            failures)
    return designs
