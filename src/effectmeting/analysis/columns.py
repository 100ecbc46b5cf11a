"""Which panel columns an analysis file may name, known before any data is read.

The sources manifest says which tables feed the panel; the table schemas
(``reference/schemas/*.json``) declare their fields; harmonising adds the rates of
:data:`~effectmeting.harmonise.pipeline.RATES` and, per taakveld in the cost data,
``cost_<taakveld>`` and ``cost_<taakveld>_per_inhabitant``.  :func:`check_against_sources` checks
an analysis file against these declared names *before* the demo is generated or the sources are
harmonised, so a typo in an outcome name costs a second, not a harmonisation run.

Outcomes are the outcome counts, their rates and the cost columns: never population counts
(``population_total``: a denominator) or covariates (``urbanity``), which describe municipalities
rather than measure an effect.  Covariates and ``by`` columns may be any declared column.
A declared column can still be absent from the actual files (optional fields, taakvelden without
data); :func:`check_against_panel` catches that after harmonising.
"""
from __future__ import annotations

import dataclasses
import re

from effectmeting.analysis.config import AnalysisConfig, fail

#: the tables :func:`effectmeting.sources.demo.generate_demo` writes into its sources.toml
#: (tests/analysis/test_cli_run.py checks this list against a generated demo)
DEMO_TABLES = ("population", "outcomes", "costs", "designs", "covariates", "price_index", "transitions")
#: panel columns of a taakveld's euros (``cost_6_72``) and euros per inhabitant (``cost_6_72_per_inhabitant``)
COST_COLUMN = re.compile(r"^cost_[0-9]+(_[0-9]+)*(_per_inhabitant)?$")
_COST_HINT = "cost_<taakveld> or cost_<taakveld>_per_inhabitant (e.g. cost_6_72_per_inhabitant)"


@dataclasses.dataclass(frozen=True)
class DeclaredColumns:
    """Panel columns the declared sources can give: ``outcomes`` (counts, rates), ``numeric``
    (also population and covariates), ``costs`` (whether cost columns exist) and ``cost_lines``."""

    outcomes: list[str]
    numeric: list[str]
    costs: bool
    cost_lines: list[str]
    designs: bool

    def is_outcome(self, name: str) -> bool:
        return name in self.outcomes or (self.costs and bool(COST_COLUMN.match(name)))

    def is_numeric(self, name: str) -> bool:
        return name in self.numeric or self.is_outcome(name)

    def outcome_text(self) -> str:
        return ", ".join(self.outcomes + ([_COST_HINT] if self.costs else [])) or "none (no outcomes or costs source)"

    def numeric_text(self) -> str:
        return ", ".join(self.numeric + ([_COST_HINT] if self.costs else []))


def is_outcome_column(name: str) -> bool:
    """Whether a panel column measures an outcome (a count of the outcomes table, a rate, a cost)."""
    from effectmeting.harmonise.pipeline import RATES

    return name in _fields("outcomes") or name in RATES or bool(COST_COLUMN.match(name))


def _fields(table: str, aggregation: str | None = None) -> list[str]:
    from effectmeting.schema import field_properties

    fields = field_properties(table)
    fields = fields[fields["aggregation"] != "key"]
    if aggregation is not None:
        fields = fields[fields["aggregation"] == aggregation]
    return [str(name) for name in fields["name"]]


def declared_tables(config: AnalysisConfig) -> set[str]:
    """Tables of the analysis's sources manifest (reads only the manifest, not the data files)."""
    if config.demo or config.sources is None:
        return set(DEMO_TABLES)
    from effectmeting.sources.sources_toml import read_sources_manifest

    return {spec.table for spec in read_sources_manifest(config.sources)}


def declared_columns(tables: set[str]) -> DeclaredColumns:
    """The panel columns that sources of ``tables`` can give (see the module docstring)."""
    from effectmeting.costs.lines import DOMAINS, SOCIAL_TOTAL, TAAKVELDEN, taakveld_column
    from effectmeting.harmonise.pipeline import RATES

    counts = _fields("outcomes", "sum") if "outcomes" in tables else []
    population = _fields("population") if "population" in tables else []
    rates = [name for name, (numerator, denominator, _) in RATES.items()
             if numerator in counts and denominator in population]
    covariates = _fields("covariates") if "covariates" in tables else []
    costs = "costs" in tables
    lines = [taakveld_column(t) for t in TAAKVELDEN] + list(DOMAINS) + [SOCIAL_TOTAL] if costs else []
    return DeclaredColumns(outcomes=counts + rates, numeric=population + counts + covariates + rates, costs=costs,
                           cost_lines=lines, designs="designs" in tables)


def check_against_sources(config: AnalysisConfig) -> DeclaredColumns:
    """Refuse outcomes, covariates, ``by`` columns and cost lines the declared sources cannot give.

    Cheap (reads the sources manifest and the bundled schemas only); raises
    :class:`~effectmeting.errors.AnalysisConfigError` naming the key, the bad name and the allowed names.
    """
    path, declared = config.path, declared_columns(declared_tables(config))
    if not declared.designs:
        raise fail(path, "data.sources", "the sources have no 'designs' table, so no design can be studied",
                   "Add a [[source]] with table = \"designs\" to the sources manifest")
    by_allowed = declared.numeric + (["size_class"] if "population_total" in declared.numeric else [])
    for design in config.designs:
        for name in design.outcomes:
            if not declared.is_outcome(name):
                raise fail(path, f"{design.path}.outcomes", f"unknown outcome {name!r}",
                           f"Allowed outcomes: {declared.outcome_text()}")
        for name in design.covariates:
            if not declared.is_numeric(name):
                raise fail(path, f"{design.path}.covariates", f"unknown covariate {name!r}",
                           f"Allowed: {declared.numeric_text()}")
        for name in design.by:
            if name not in by_allowed and not declared.is_numeric(name):
                raise fail(path, f"{design.path}.by", f"unknown column {name!r}", f"Allowed: {', '.join(by_allowed)}")
    if config.costs is not None:
        _check_costs(config, declared)
    if config.case_study is not None:
        for name in config.case_study.outcomes:
            if not declared.is_outcome(name):
                raise fail(path, "case_study.outcomes", f"unknown outcome {name!r}",
                           f"Allowed outcomes: {declared.outcome_text()}")
    return declared


def _check_costs(config: AnalysisConfig, declared: DeclaredColumns) -> None:
    path, costs = config.path, config.costs
    assert costs is not None  # checked by the caller
    if not declared.costs:
        raise fail(path, "costs", "the sources have no 'costs' table", "Add a [[source]] with table = \"costs\" "
                   "(Iv3 lasten per taakveld) to the sources manifest, or remove [costs]")
    for name in costs.lines or []:
        if name not in declared.cost_lines:
            raise fail(path, "costs.lines", f"unknown cost line {name!r}", f"Allowed: {', '.join(declared.cost_lines)}")
    for index, (line, outcome) in enumerate(costs.cost_per_outcome):
        if line not in declared.cost_lines:
            raise fail(path, f"costs.cost_per_outcome[{index}]", f"unknown cost line {line!r}",
                       f"Allowed: {', '.join(declared.cost_lines)}")
        if not declared.is_outcome(outcome):
            raise fail(path, f"costs.cost_per_outcome[{index}]", f"unknown outcome {outcome!r}",
                       f"Allowed outcomes: {declared.outcome_text()}")


def _numeric_columns(data) -> list[str]:
    import pandas as pd

    return [c for c in data.columns if c not in ("municipality", "year")
            and pd.api.types.is_numeric_dtype(data[c]) and not isinstance(data[c].dtype, pd.CategoricalDtype)]


def check_against_panel(config: AnalysisConfig, panel, cost_columns: list[str] | None = None) -> None:
    """Outcomes, covariates, ``by`` columns, designs and cost lines that the panel lacks -> AnalysisConfigError.

    The second check, after harmonising: :func:`effectmeting.analysis.columns.check_against_sources`
    has already refused names the declared sources cannot give; this one catches declared columns
    that the actual files lack.  Outcomes must be outcome columns (counts, rates, costs), not
    population counts or covariates.
    """
    path = config.path
    numeric = _numeric_columns(panel.data)
    outcomes = [c for c in numeric if is_outcome_column(c)]
    present = set(panel.designs["dimension"].astype(str)) if len(panel.designs) else set()
    for design in config.designs:
        dimension = design.name.replace(">=", "=").partition("=")[0].strip()
        if dimension not in present:
            raise fail(path, f"{design.path}.name", f"design {design.name!r}: dimension {dimension!r} is not in "
                       "the data's design history", f"Dimensions present: {', '.join(sorted(present)) or 'none'}")
        for key, names, allowed in (("outcomes", design.outcomes, outcomes), ("covariates", design.covariates, numeric)):
            for name in names:
                if name not in allowed:
                    raise fail(path, f"{design.path}.{key}", f"unknown {key[:-1]} {name!r} (not a numeric "
                               f"{key[:-1]} column of the harmonised panel)", f"Allowed: {', '.join(allowed)}")
        for name in design.by:
            if name not in panel.data.columns or name in ("municipality", "year"):
                raise fail(path, f"{design.path}.by", f"unknown column {name!r}",
                           f"Allowed: {', '.join(c for c in panel.data.columns if c not in ('municipality', 'year'))}")
    if config.case_study is not None:
        request = config.case_study
        dimension = request.design.replace(">=", "=").partition("=")[0].strip()
        if dimension not in present:
            raise fail(path, "case_study.design", f"design {request.design!r}: dimension {dimension!r} is not in "
                       "the data's design history", f"Dimensions present: {', '.join(sorted(present)) or 'none'}")
        if request.municipality not in set(panel.data["municipality"]):
            raise fail(path, "case_study.municipality", f"{request.municipality} is not in the harmonised panel",
                       "check the code (municipalities merged away are mapped to the reference year's code)")
        for name in request.outcomes:
            if name not in outcomes:
                raise fail(path, "case_study.outcomes", f"unknown outcome {name!r} (not an outcome column of the "
                           "harmonised panel)", f"Allowed: {', '.join(outcomes)}")
    if config.costs is not None and cost_columns is not None:
        lines = [c for c in cost_columns if c not in ("municipality", "year")]
        for name in config.costs.lines or []:
            if name not in lines:
                raise fail(path, "costs.lines", f"unknown cost line {name!r}", f"Allowed: {', '.join(lines)}")
        for index, (line, outcome) in enumerate(config.costs.cost_per_outcome):
            if line not in lines:
                raise fail(path, f"costs.cost_per_outcome[{index}]", f"unknown cost line {line!r}",
                           f"Allowed: {', '.join(lines)}")
            if outcome not in outcomes:
                raise fail(path, f"costs.cost_per_outcome[{index}]", f"unknown outcome {outcome!r}",
                           f"Allowed: {', '.join(outcomes)}")
