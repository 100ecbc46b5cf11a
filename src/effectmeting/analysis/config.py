"""Analysis files (TOML): read with :mod:`tomllib` (never evaluated), checked key by key on load.

An analysis file names the data, the designs to study, the cost questions and the inference and
disclosure options; :func:`effectmeting.analysis.run.run_analysis` carries it out.  Every problem is
an :class:`~effectmeting.errors.AnalysisConfigError` whose one-paragraph message names the key by
its TOML path (``design[0].estimators``), the bad value, the allowed values and what to fix.

Sections (see ``analyses/demo.toml`` for a commented example)::

    [analysis]    title, language ("nl" | "en"), seed, figure_format ("png" | "svg" in report.html)
    [data]        sources = "path/to/sources.toml" | demo = true [+ demo_seed];
                  reference_year, price_base_year, design_rule
    [[design]]    name = "role=gives_help", outcomes = [...], estimators = [...], control, covariates, by
    [costs]       lines = [...], horizon, bootstrap, cost_per_outcome = [["youth", "jeugdhulp_per_1000_youth"]],
                  estimator ("cs" | "sa" | "imputation" | "twfe")
    [inference]   bootstrap (0 = none), multiplicity ("holm" | "romano_wolf" | "both" | "none")
    [disclosure]  min_cell_size (estimates on fewer municipalities are suppressed)
    [case_study]  municipality = "GM0363", design, outcomes, estimator ("sdid" | "sc"), n_draws,
                  min_pre_periods, max_pre_rmspe: one municipality against its synthetic twin (the
                  [[design]] blocks are then optional)

Paths are relative to the analysis file.  Outcomes, covariates and cost lines are checked twice:
against the columns the sources declare, before any data is read
(:func:`effectmeting.analysis.columns.check_against_sources`), and against the harmonised panel
once it exists (:func:`effectmeting.analysis.columns.check_against_panel`), before estimating.
"""
from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

from effectmeting.defaults import DEFAULT_SEED
from effectmeting.errors import AnalysisConfigError, not_a_file
from effectmeting.estimate.registry import CASE_STUDY_ESTIMATORS, COST_ESTIMATORS, STUDY_ESTIMATORS
from effectmeting.reference.register import FIRST_YEAR, LAST_YEAR

#: The longest cost horizon the register's years allow (adoption in 2016 observed up to 2024).
MAX_HORIZON = LAST_YEAR - FIRST_YEAR

ESTIMATORS = STUDY_ESTIMATORS
MULTIPLICITY = ("holm", "romano_wolf", "both", "none")
LANGUAGES = ("nl", "en")
CONTROLS = ("never", "notyet")
DESIGN_RULES = ("largest_population", "unanimous", "population_share")
FIGURE_FORMATS = ("png", "svg")
SWITCHERS = ("exclude", "first_adoption")

_SECTIONS = ("analysis", "data", "design", "costs", "inference", "disclosure", "case_study")
# key -> (expected type(s), default); a default of _REQUIRED means the key must be given
_Spec = dict[str, tuple[type, Any]]
_REQUIRED = object()
_ANALYSIS: _Spec = {"title": (str, "Effectmeting"), "language": (str, "nl"), "seed": (int, DEFAULT_SEED),
             "figure_format": (str, "png"), "description": (str, "")}
_DATA: _Spec = {"sources": (str, None), "demo": (bool, False), "demo_seed": (int, None), "reference_year": (int, 2023),
         "price_base_year": (int, 2023), "design_rule": (str, "largest_population")}
_DESIGN: _Spec = {"name": (str, _REQUIRED), "outcomes": (list, _REQUIRED), "estimators": (list, ["cs"]),
           "control": (str, "never"), "covariates": (list, []), "by": (list, []), "switchers": (str, "exclude")}
_COSTS: _Spec = {"lines": (list, None), "horizon": (int, 5), "bootstrap": (int, 999), "cost_per_outcome": (list, []),
          "design": (str, None), "estimator": (str, "cs")}
_INFERENCE: _Spec = {"bootstrap": (int, 0), "multiplicity": (str, "holm")}
_DISCLOSURE: _Spec = {"min_cell_size": (int, 10)}
_CASE_STUDY: _Spec = {"municipality": (str, _REQUIRED), "design": (str, _REQUIRED), "outcomes": (list, _REQUIRED),
                      "estimator": (str, "sdid"), "n_draws": (int, 200), "min_pre_periods": (int, 4),
                      "max_pre_rmspe": (float, 3.0)}


@dataclasses.dataclass(frozen=True)
class DesignRequest:
    """One ``[[design]]`` block."""

    name: str
    outcomes: list[str]
    estimators: list[str]
    control: str
    covariates: list[str]
    by: list[str]
    switchers: str
    path: str  # e.g. "design[0]", for messages


@dataclasses.dataclass(frozen=True)
class CostRequest:
    """The ``[costs]`` section (``None`` when absent)."""

    design: str
    lines: list[str] | None
    horizon: int
    bootstrap: int
    cost_per_outcome: list[tuple[str, str]]
    estimator: str = "cs"


@dataclasses.dataclass(frozen=True)
class CaseStudyRequest:
    """The ``[case_study]`` section (``None`` when absent)."""

    municipality: str
    design: str
    outcomes: list[str]
    estimator: str
    n_draws: int
    min_pre_periods: int
    max_pre_rmspe: float


@dataclasses.dataclass(frozen=True)
class AnalysisConfig:
    """A checked analysis file.  ``sources`` is an absolute path or None (demo data)."""

    path: Path
    text: str
    title: str
    description: str
    language: str
    seed: int
    figure_format: str
    sources: Path | None
    demo: bool
    demo_seed: int | None
    reference_year: int
    price_base_year: int
    design_rule: str
    designs: list[DesignRequest]
    costs: CostRequest | None
    bootstrap: int | None
    multiplicity: str
    min_cell_size: int
    case_study: CaseStudyRequest | None = None


def fail(path: Path, key: str, problem: str, fix: str) -> AnalysisConfigError:
    """The one-paragraph error for ``key`` of the analysis file ``path``: problem, then the fix."""
    return AnalysisConfigError(f"{path}: {key}: {problem}. {fix}")


def _type_name(expected) -> str:
    return {str: "a string", int: "an integer", bool: "true or false", list: "a list"}[expected]


def _section(path: Path, where: str, table: Any, spec: dict) -> dict:
    """Check one table's keys and value types; return the values with defaults filled in."""
    if not isinstance(table, dict):
        raise fail(path, where, f"expected a table, got {table!r}", f"write it as [{where}] with key = value lines")
    unknown = sorted(set(table) - set(spec))
    if unknown:
        raise fail(path, f"{where}.{unknown[0]}", f"unknown key {unknown[0]!r}",
                    f"Allowed keys in [{where.split('[')[0]}]: {', '.join(spec)}; remove or correct it")
    values = {}
    for key, (expected, default) in spec.items():
        if key not in table:
            if default is _REQUIRED:
                raise fail(path, f"{where}.{key}", "required key missing", f"add {key} = ... to [{where}]")
            values[key] = default
            continue
        value = table[key]
        # bool is a subclass of int in Python: refuse true/false where a number is meant
        wrong = not isinstance(value, expected) or (expected is int and isinstance(value, bool))
        if wrong:
            raise fail(path, f"{where}.{key}", f"{value!r} is {type(value).__name__}, expected "
                        f"{_type_name(expected)}", f"write {key} as {_type_name(expected)}")
        values[key] = value
    return values


def _choice(path: Path, key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise fail(path, key, f"{value!r} is not allowed", f"Use one of: {', '.join(allowed)}")


def _strings(path: Path, key: str, values: list, allowed: tuple[str, ...] | None = None,
             non_empty: bool = False) -> list[str]:
    if non_empty and not values:
        raise fail(path, key, "empty list", "name at least one")
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise fail(path, f"{key}[{index}]", f"{value!r} is not a string", "write it in quotes")
        if allowed is not None and value not in allowed:
            raise fail(path, key, f"{value!r} is not allowed", f"Use any of: {', '.join(allowed)}")
    if len(set(values)) != len(values):
        raise fail(path, key, f"{values!r} names an item twice", "list each once")
    return list(values)


def _check_design_name(path: Path, key: str, name: str) -> None:
    """``dimension=value`` with a dimension and value from the design catalogue."""
    from effectmeting.designs.dimensions import DesignError, catalogue

    dimensions = catalogue()
    text = name.replace(">=", "=")
    dimension, sep, value = (part.strip() for part in text.partition("="))
    if not sep or not dimension or not value:
        raise fail(path, key, f"{name!r} is not 'dimension=value'",
                    "write e.g. name = \"role=gives_help\" (or \"maturity>=3\" for a score)")
    if dimension not in dimensions:
        raise fail(path, key, f"unknown design dimension {dimension!r} in {name!r}",
                    f"Known dimensions: {', '.join(sorted(dimensions))}")
    try:
        info = dimensions[dimension]
        if info.kind != "score" and value not in info.categories:
            raise fail(path, key, f"{value!r} is not a value of {dimension} (in {name!r})",
                        f"Allowed values: {info.allowed_text()}")
    except DesignError as exc:  # pragma: no cover - catalogue entries are well-formed
        raise fail(path, key, str(exc), "correct the design") from None


def _read_toml(path: Path) -> tuple[str, dict]:
    """The file's text and its parsed tables; refuses a missing file, invalid TOML and unknown
    top-level sections (a typo there would otherwise be ignored silently)."""
    if not path.is_file():
        what = not_a_file(path)
        raise AnalysisConfigError(f"{path}: analysis file {what}; check the path (relative to the current "
                                  "directory)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise AnalysisConfigError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason}); TOML files must be "
                                  "UTF-8. Save the file as UTF-8 and run again.") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AnalysisConfigError(f"{path}: not valid TOML: {exc}. Fix the syntax at that line (strings need "
                                  "quotes, tables [name], arrays [a, b]).") from None
    unknown = sorted(set(raw) - set(_SECTIONS))
    if unknown:
        raise fail(path, unknown[0], f"unknown section {unknown[0]!r}",
                    f"Allowed sections: {', '.join(_SECTIONS)}; remove or correct it")
    return text, raw


def _data(path: Path, raw: dict) -> tuple[dict, Path | None]:
    """The ``[data]`` values and the absolute path of the sources file (None for demo data):
    exactly one of ``sources`` and ``demo`` must be given, and the sources file must exist."""
    if "data" not in raw:
        raise fail(path, "data", "section missing", "add [data] with sources = \"sources.toml\" or demo = true")
    data = _section(path, "data", raw["data"], _DATA)
    _choice(path, "data.design_rule", data["design_rule"], DESIGN_RULES)
    if (data["sources"] is None) == (not data["demo"]):
        raise fail(path, "data", "give exactly one of sources = \"...\" and demo = true",
                    "sources is the path of a sources.toml (relative to this file); demo = true uses generated "
                    "demo data")
    if data["demo_seed"] is not None and not data["demo"]:
        raise fail(path, "data.demo_seed", "only applies with demo = true", "remove it or set demo = true")
    sources = None
    if data["sources"] is not None:
        sources = (path.parent / data["sources"]).resolve()
        if not sources.is_file():
            what = not_a_file(sources)
            raise fail(path, "data.sources", f"source file {data['sources']!r} {what} (looked at {sources})",
                        "Paths are relative to the analysis file; correct the path")
    return data, sources


def _designs(path: Path, raw: dict) -> list[DesignRequest]:
    """The ``[[design]]`` blocks (at least one, unless the file has a ``[case_study]``), each
    checked against the design catalogue."""
    blocks = raw.get("design", [])
    if "case_study" in raw and blocks == []:
        return []
    if not isinstance(blocks, list) or not blocks:
        raise fail(path, "design", "no [[design]] block", "add at least one [[design]] with name and outcomes")
    designs = []
    for index, block in enumerate(blocks):
        where = f"design[{index}]"
        values = _section(path, where, block, _DESIGN)
        _check_design_name(path, f"{where}.name", values["name"])
        _choice(path, f"{where}.control", values["control"], CONTROLS)
        _choice(path, f"{where}.switchers", values["switchers"], SWITCHERS)
        designs.append(DesignRequest(
            name=values["name"], outcomes=_strings(path, f"{where}.outcomes", values["outcomes"], non_empty=True),
            estimators=_strings(path, f"{where}.estimators", values["estimators"], ESTIMATORS, non_empty=True),
            control=values["control"], covariates=_strings(path, f"{where}.covariates", values["covariates"]),
            by=_strings(path, f"{where}.by", values["by"]), switchers=values["switchers"], path=where))
    return designs


def _costs(path: Path, raw: dict, designs: list[DesignRequest]) -> CostRequest | None:
    """The ``[costs]`` section (None when absent); its design must be one of the studied ones
    (the first by default)."""
    if "costs" not in raw:
        return None
    values = _section(path, "costs", raw["costs"], _COSTS)
    names = [d.name for d in designs]
    design = values["design"] or names[0]
    _choice(path, "costs.design", design, tuple(names))
    _choice(path, "costs.estimator", values["estimator"], COST_ESTIMATORS)
    if not 1 <= values["horizon"] <= MAX_HORIZON:
        # Beyond the register's years no effect is estimable; the cost stage would stop at the last
        # estimable year without a word, so a typo (1000000000) looked like a valid request.
        raise fail(path, "costs.horizon", f"{values['horizon']} is outside 1-{MAX_HORIZON}",
                   f"give a number of years from 1 to {MAX_HORIZON} (data years {FIRST_YEAR}-{LAST_YEAR} leave at most "
                   f"{MAX_HORIZON} years after an adoption)")
    if values["bootstrap"] < 99:
        raise fail(path, "costs.bootstrap", f"{values['bootstrap']} draws", "use at least 99 (999 is usual)")
    pairs = []
    for index, pair in enumerate(values["cost_per_outcome"]):
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
            raise fail(path, f"costs.cost_per_outcome[{index}]", f"{pair!r} is not a pair",
                        "write [\"cost_line\", \"outcome\"], e.g. [\"youth\", \"jeugdhulp_per_1000_youth\"]")
        pairs.append((pair[0], pair[1]))
    lines = None if values["lines"] is None else _strings(path, "costs.lines", values["lines"], non_empty=True)
    return CostRequest(design=design, lines=lines, horizon=values["horizon"], bootstrap=values["bootstrap"],
                       cost_per_outcome=pairs, estimator=values["estimator"])


def _inference_and_disclosure(path: Path, raw: dict) -> tuple[dict, dict]:
    """The ``[inference]`` and ``[disclosure]`` values (defaults when absent)."""
    inference = _section(path, "inference", raw.get("inference", {}), _INFERENCE)
    _choice(path, "inference.multiplicity", inference["multiplicity"], MULTIPLICITY)
    if inference["bootstrap"] and inference["bootstrap"] < 19:
        raise fail(path, "inference.bootstrap", f"{inference['bootstrap']} draws",
                    "use 0 (no cluster bootstrap) or at least 19 draws (999 is usual)")
    disclosure = _section(path, "disclosure", raw.get("disclosure", {}), _DISCLOSURE)
    if disclosure["min_cell_size"] < 0:
        raise fail(path, "disclosure.min_cell_size", f"{disclosure['min_cell_size']} is negative",
                    "give 0 (no suppression) or a positive number of municipalities")
    return inference, disclosure


def _case_study(path: Path, raw: dict) -> CaseStudyRequest | None:
    """The ``[case_study]`` section (None when absent)."""
    if "case_study" not in raw:
        return None
    table = raw["case_study"]
    if isinstance(table, dict) and isinstance(table.get("max_pre_rmspe"), int) and not isinstance(
            table.get("max_pre_rmspe"), bool):
        table = {**table, "max_pre_rmspe": float(table["max_pre_rmspe"])}
    values = _section(path, "case_study", table, _CASE_STUDY)
    municipality = values["municipality"]
    if not (len(municipality) == 6 and municipality.startswith("GM") and municipality[2:].isdigit()):
        raise fail(path, "case_study.municipality", f"{municipality!r} is not a municipality code",
                   "write the CBS code, e.g. municipality = \"GM0363\" (Amsterdam)")
    _check_design_name(path, "case_study.design", values["design"])
    _choice(path, "case_study.estimator", values["estimator"], tuple(CASE_STUDY_ESTIMATORS))
    if values["n_draws"] < 19:
        raise fail(path, "case_study.n_draws", f"{values['n_draws']} placebo draws", "use at least 19 (200 is usual)")
    if values["min_pre_periods"] < 2:
        raise fail(path, "case_study.min_pre_periods", f"{values['min_pre_periods']} years",
                   "use at least 2 (4 or more is advisable)")
    if not values["max_pre_rmspe"] > 0:
        raise fail(path, "case_study.max_pre_rmspe", f"{values['max_pre_rmspe']} is not positive",
                   "give the refusal threshold in noise levels, e.g. 3.0")
    return CaseStudyRequest(
        municipality=municipality, design=values["design"],
        outcomes=_strings(path, "case_study.outcomes", values["outcomes"], non_empty=True),
        estimator=values["estimator"], n_draws=values["n_draws"], min_pre_periods=values["min_pre_periods"],
        max_pre_rmspe=values["max_pre_rmspe"])


def load_analysis(path: str | Path) -> AnalysisConfig:
    """Read and check an analysis file; :class:`AnalysisConfigError` names the first problem."""
    path = Path(path)
    text, raw = _read_toml(path)
    analysis = _section(path, "analysis", raw.get("analysis", {}), _ANALYSIS)
    _choice(path, "analysis.language", analysis["language"], LANGUAGES)
    _choice(path, "analysis.figure_format", analysis["figure_format"], FIGURE_FORMATS)
    data, sources = _data(path, raw)
    for key, seed in (("analysis.seed", analysis["seed"]), ("data.demo_seed", data["demo_seed"])):
        # numpy's generators refuse negative seeds; refuse them here, not after the estimation ran
        if seed is not None and seed < 0:
            raise fail(path, key, f"{seed} is not a valid seed", "give a whole number >= 0, e.g. 20240101")
    designs = _designs(path, raw)
    if "costs" in raw and not designs:
        raise fail(path, "costs", "needs a [[design]] block", "add the design whose cost effects you want")
    costs = _costs(path, raw, designs)
    inference, disclosure = _inference_and_disclosure(path, raw)
    return AnalysisConfig(
        path=path.resolve(), text=text, title=analysis["title"], description=analysis["description"],
        language=analysis["language"], seed=analysis["seed"], figure_format=analysis["figure_format"],
        sources=sources, demo=data["demo"], demo_seed=data["demo_seed"], reference_year=data["reference_year"],
        price_base_year=data["price_base_year"], design_rule=data["design_rule"], designs=designs, costs=costs,
        bootstrap=inference["bootstrap"] or None, multiplicity=inference["multiplicity"],
        min_cell_size=disclosure["min_cell_size"], case_study=_case_study(path, raw))
