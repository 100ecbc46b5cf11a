"""What a StatLine table's extra dimensions, fixed year and percentages mean: the declaration in ``sources.toml``.

A StatLine table has a region and a period dimension, often more (03759ned: ``Geslacht``, ``Leeftijd``,
``BurgerlijkeStaat``), and some tables have no period at all (Kerncijfers wijken en buurten, 85039NED: the year is
a property of the file).  effectmeting reads municipality x year rows, so every extra dimension must be declared
in the source's ``[[source]]`` table::

    year = 2021                                   # tables without a period column (85039NED)
    measures = ["BevolkingOp1Januari_1"]          # optional: the measure columns to read (others are not used)
    [source.dimensions]
    Geslacht = "T001038"                          # keep one value (Totaal mannen en vrouwen)
    BurgerlijkeStaat = "T001019"                  # keep one value (Totaal burgerlijke staat)
    [source.dimensions.Leeftijd]                  # one column per entry: one value, or the sum of named values
    population_total = "10000"                    # Totaal
    population_0_17 = ["70100", "70200", "70300", "11500", "11600", "11700"]   # 0-4, 5-9, 10-14, 15, 16, 17 jaar
    [source.percentages.JongerenMetJeugdzorg_2]   # a percentage becomes a count of persons
    denominator = "JongerenTot18Jaar_1"           # a count column of the same file, or a field of the
                                                  # population table: "population:population_0_17"
    per = 100                                     # 100 for a percentage, 1000 for a rate per 1,000
    count = "youth_with_jeugdhulp"                # name of the count column (a schema field)

A dimension declared as a list sums those values (keeping the measure names).  Values are matched on the code
(``T001038``) or, in a web-portal export, the label (``Totaal mannen en vrouwen``), after stripping spaces.
Rows with a value of a declared dimension that is not named are set aside with an audit row; a dimension that is
not declared is refused with the list of its values and an example declaration.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from effectmeting.errors import InputError, echo

#: ``per`` values a percentage or rate may be declared with.
RATE_SCALES = (100, 1000, 10_000, 100_000)


@dataclass(frozen=True)
class Percentage:
    """A measure published as a percentage or rate of ``denominator`` (per ``per``), read as ``count`` persons."""

    column: str
    denominator: str
    per: int = 100
    count: str = ""

    @property
    def from_population(self) -> str | None:
        """The population field of a ``"population:<field>"`` denominator (another source), else None."""
        return self.denominator.split(":", 1)[1] if self.denominator.startswith("population:") else None


@dataclass(frozen=True)
class StatlineDeclaration:
    """How to read one StatLine table (see the module docstring for the ``sources.toml`` form).

    ``dimensions``: dimension -> a value to keep (``str``), values to sum (``tuple``), or entries
    (``dict`` output column -> value or tuple of values; at most one dimension in this form).
    ``year``: the year of every row of a table without a period column.  ``measures``: the measure
    columns to read (``()``: all).  ``percentages``: measures that are percentages or rates.
    """

    dimensions: dict[str, Any] = field(default_factory=dict)
    year: int | None = None
    measures: tuple[str, ...] = ()
    percentages: tuple[Percentage, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.dimensions or self.year is not None or self.measures or self.percentages)

    def describe(self) -> dict[str, Any]:
        """A JSON-ready copy for the provenance and the run manifest."""
        return {"dimensions": {k: (list(v) if isinstance(v, tuple) else
                                   {e: (list(x) if isinstance(x, tuple) else x) for e, x in v.items()}
                                   if isinstance(v, dict) else v) for k, v in self.dimensions.items()},
                "year": self.year, "measures": list(self.measures),
                "percentages": [vars(p) for p in self.percentages]}


def _values(value: Any, where: str) -> str | tuple[str, ...]:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(v.strip() for v in value)
    raise InputError(f"{where} = {echo(value)}: declare one value in quotes (keep it) or a list of values (sum "
                     'them), e.g. "T001038" or ["70100", "70200"]', reason="statline_declaration")


def parse_declaration(entry: dict[str, Any], where: str) -> StatlineDeclaration:
    """Check the StatLine keys of one ``[[source]]`` table (``year``, ``measures``, ``dimensions``,
    ``percentages``) and return their :class:`StatlineDeclaration`; ``where`` names the manifest and source."""
    year = entry.get("year")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2100):
        raise InputError(f"{where}: year = {echo(year)} must be a whole year such as 2021 (the year of a table "
                         "without a period column)", reason="statline_declaration")
    measures = entry.get("measures", [])
    if not isinstance(measures, list) or not all(isinstance(m, str) for m in measures):
        raise InputError(f"{where}: measures = {echo(measures)} must be a list of column names, e.g. "
                         '["BevolkingOp1Januari_1"]', reason="statline_declaration")
    raw_dimensions = entry.get("dimensions", {})
    if not isinstance(raw_dimensions, dict):
        raise InputError(f"{where}: dimensions must be a table ([source.dimensions])", reason="statline_declaration")
    dimensions: dict[str, Any] = {}
    for name, value in raw_dimensions.items():
        label = f"{where}: dimensions.{name}"
        if isinstance(value, dict):
            if not value:
                raise InputError(f"{label} is an empty table; name at least one output column", reason="statline_declaration")
            dimensions[name] = {str(out): _values(v, f"{label}.{out}") for out, v in value.items()}
        else:
            dimensions[name] = _values(value, label)
    spread = [name for name, value in dimensions.items() if isinstance(value, dict)]
    if len(spread) > 1:
        raise InputError(f"{where}: dimensions {' and '.join(spread)} both name output columns; only one dimension "
                         "can be spread over columns (declare one value or a sum for the others)",
                         reason="statline_declaration")
    raw_percentages = entry.get("percentages", {})
    if not isinstance(raw_percentages, dict):
        raise InputError(f"{where}: percentages must be a table ([source.percentages.<column>])",
                         reason="statline_declaration")
    percentages = []
    for column, spec in raw_percentages.items():
        label = f"{where}: percentages.{column}"
        if not isinstance(spec, dict) or not isinstance(spec.get("denominator"), str):
            raise InputError(f"{label} needs a denominator, the count column the percentage is of, e.g. "
                             f'[source.percentages.{column}] denominator = "JongerenTot18Jaar_1"; a percentage '
                             "without its denominator cannot be summed when municipalities merge",
                             reason="percentage_without_denominator")
        unknown = sorted(set(spec) - {"denominator", "per", "count"})
        if unknown:
            raise InputError(f"{label}: unknown key(s) {unknown}; allowed: denominator, per, count",
                             reason="statline_declaration")
        per = spec.get("per", 100)
        if per not in RATE_SCALES or isinstance(per, bool):
            raise InputError(f"{label}: per = {echo(per)} is not one of {list(RATE_SCALES)} (100 for a percentage, "
                             "1000 for a rate per 1,000)", reason="statline_declaration")
        if ":" in spec["denominator"] and not spec["denominator"].startswith("population:"):
            raise InputError(f"{label}: denominator {echo(spec['denominator'])} names another table; only the "
                             'population table can be named, e.g. "population:population_0_17"',
                             reason="percentage_without_denominator")
        count = spec.get("count", column)
        if not isinstance(count, str):
            raise InputError(f"{label}: count = {echo(count)} must be a column name in quotes", reason="statline_declaration")
        percentages.append(Percentage(column=str(column), denominator=spec["denominator"], per=int(per), count=count))
    return StatlineDeclaration(dimensions=dimensions, year=year, measures=tuple(measures),
                               percentages=tuple(percentages))
