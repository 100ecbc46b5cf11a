"""Run an analysis file end to end: harmonise -> designs -> estimate -> costs -> report.

:func:`run_analysis` writes into ``out_dir``:

* ``estimates.csv`` — every design study's ``estimates()`` rows (columns :data:`ESTIMATE_COLUMNS`),
  sorted by design (file order), then as :meth:`DesignEffectStudy.tidy` sorts; floats written
  with ``%.10g`` so re-runs are byte-identical;
* ``cost_effects.csv`` / ``cost_per_outcome.csv`` when ``[costs]`` is given;
* ``tables/`` (md, tex, html), ``figures/`` (PNG 200 dpi + SVG), ``report.html``;
* ``audit.csv`` (fate of every input row), ``manifest.json`` (input SHA-256s, versions, the
  analysis file, seed, timings per stage) and, on demo data, ``truth.json``.

Disclosure: estimate rows based on fewer than ``min_cell_size`` municipalities have their
numbers left empty (``n_units`` kept) and are counted in the report's caveats.
"""
from __future__ import annotations

import contextlib
import dataclasses
import re
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from effectmeting.analysis.columns import check_against_panel, check_against_sources
from effectmeting.analysis.config import LANGUAGES, AnalysisConfig, CostRequest, load_analysis
from effectmeting.analysis.folders import output_folder
from effectmeting.errors import AnalysisConfigError, IdentificationError, OptionError
from effectmeting.progress import progress as progress_bar
from effectmeting.progress import progress_enabled

ESTIMATE_COLUMNS = ["design", "outcome", "estimator", "aggregation", "key", "estimate", "std_error", "conf_low",
                    "conf_high", "p_value", "n_units"]
NUMBER_COLUMNS = ["estimate", "std_error", "conf_low", "conf_high", "p_value"]
FLOAT_FORMAT = "%.10g"


@dataclasses.dataclass
class RunResult:
    """What :func:`run_analysis` produced: the output directory, the estimates, timings (seconds)."""

    out_dir: Path
    estimates: pd.DataFrame
    timings: dict[str, float]
    studies: dict
    files: list[Path]
    notes: list[str]


class _Clock:
    """Wall-clock seconds per stage, with a progress line on stderr unless quiet."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.timings: dict[str, float] = {}
        self._stage, self._start = "", 0.0

    def start(self, stage: str, text: str) -> None:
        self._stage, self._start = stage, time.perf_counter()
        if not self.quiet:
            print(f"[effectmeting run] {text} ...", file=sys.stderr, flush=True)

    def stop(self) -> None:
        self.timings[self._stage] = round(time.perf_counter() - self._start, 3)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()


def _load_panel(config: AnalysisConfig, out: Path):
    from effectmeting.harmonise.pipeline import harmonise

    truth = None
    sources = config.sources
    if config.demo or sources is None:
        from effectmeting.defaults import DEFAULT_SEED
        from effectmeting.sources.demo import generate_demo

        made = generate_demo(out / "demo_sources", seed=config.demo_seed or DEFAULT_SEED)
        sources, truth = Path(made["sources"]), Path(made["truth"])
    panel = harmonise(sources, reference_year=config.reference_year, price_base_year=config.price_base_year,
                      design_rule=config.design_rule)
    return panel, Path(sources), truth


def _study(panel, design, config: AnalysisConfig):
    """One [[design]]: K's design_effect, once per ``by`` column (subgroup rows of later ones appended)."""
    from effectmeting.study import add_terciles, design_effect

    by_columns = []
    for column in design.by:
        values = panel.data[column].dropna().unique()
        if len(values) > 10 and pd.api.types.is_numeric_dtype(panel.data[column]):
            panel = add_terciles(panel, column)  # a continuous column: terciles of its first-year value
            column = f"{column}_tercile"
        by_columns.append(column)
    kwargs = dict(design=design.name, outcomes=design.outcomes, estimator=design.estimators,
                  control=design.control, covariates=design.covariates, n_draws=config.bootstrap,
                  seed=config.seed, multiplicity=config.multiplicity, switchers=design.switchers)
    try:
        main = design_effect(panel, by=by_columns[0] if by_columns else None, sensitivity=True, **kwargs)
        rows = [main.estimates()]
        for column in by_columns[1:]:
            extra = design_effect(panel, by=column, **kwargs)
            part = extra.estimates()
            rows.append(part[part["aggregation"] == "subgroup"])
            main.notes.extend(n for n in extra.notes if column in n)
    except (IdentificationError, OptionError) as exc:
        raise AnalysisConfigError(f"{config.path}: {design.path}: {exc}") from None
    return main, pd.concat(rows, ignore_index=True)


def _suppress(table: pd.DataFrame, min_cell_size: int) -> tuple[pd.DataFrame, int]:
    small = table["n_units"] < min_cell_size
    table = table.copy()
    table.loc[small, NUMBER_COLUMNS] = np.nan
    return table, int(small.sum())


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    return path


def run_analysis(path: str | Path, out_dir: str | Path, *, quiet: bool = False, language: str | None = None,
                 seed: int | None = None, progress: bool | None = None) -> RunResult:
    """Carry out the analysis file ``path`` and write every output into ``out_dir`` (created).

    ``language`` (``"nl"`` or ``"en"``) and ``seed`` (>= 0) override the file's ``[analysis]``
    values (the manifest records both the file and the overrides).  ``quiet``: no stage lines on
    stderr.  ``progress``: True draws progress bars on stderr for long loops (bootstrap draws,
    estimator loops); None or False draws none (the command line switches them on itself).

    The analysis file is checked in full, including its outcome, covariate and cost-line names
    against the columns the sources declare, before any data is generated or read.  If the run
    fails, nothing it created is left behind in ``out_dir`` (see
    :func:`~effectmeting.analysis.folders.output_folder`).

    Raises :class:`AnalysisConfigError` for a bad analysis file (also for outcomes, covariates or
    cost lines that the harmonised panel lacks, checked before estimating) and the pipeline's own
    errors (InputError, SchemaValidationError, ...) for bad source data.
    """
    clock = _Clock(quiet)
    clock.start("config", f"reading {path}")
    config, overrides = _with_overrides(load_analysis(path), language=language, seed=seed)
    check_against_sources(config)
    clock.stop()
    toggle = progress_enabled(True, terminal_only=False) if progress else contextlib.nullcontext()
    with output_folder(out_dir) as out, toggle:
        return _carry_out(config, out, clock, overrides, quiet)


def _with_overrides(config: AnalysisConfig, *, language: str | None, seed: int | None
                    ) -> tuple[AnalysisConfig, dict]:
    """``config`` with the caller's language and seed in place of the file's; the overrides given."""
    overrides: dict = {}
    if language is not None:
        if language not in LANGUAGES:
            raise AnalysisConfigError(f"language {language!r} is not available for the report. Use one of: "
                                      f"{', '.join(LANGUAGES)}")
        overrides["language"] = language
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise AnalysisConfigError(f"seed {seed!r} is not a valid seed. Give a whole number >= 0, e.g. 20240101")
        overrides["seed"] = seed
    return dataclasses.replace(config, **overrides), overrides


def _carry_out(config: AnalysisConfig, out: Path, clock: _Clock, overrides: dict, quiet: bool) -> RunResult:
    """The stages of :func:`run_analysis` after the checks, writing into the existing folder ``out``."""
    clock.start("harmonise", "harmonising the sources" + (" (demo data)" if config.demo else ""))
    panel, sources, truth = _load_panel(config, out)
    cost_columns = None
    if config.costs is not None:
        from effectmeting.costs import cost_lines

        cost_columns = list(cost_lines(panel).columns)
    check_against_panel(config, panel, cost_columns)
    clock.stop()

    if config.case_study is not None and not config.designs:
        return _carry_out_case_study(config, out, clock, overrides, quiet, panel, sources, truth)
    clock.start("estimate", f"estimating {len(config.designs)} design(s)")
    studies, parts = {}, []
    for design in progress_bar(config.designs, desc="designs", unit="design"):
        study, rows = _study(panel, design, config)
        studies[design.name] = study
        parts.append(rows)
    estimates = pd.concat(parts, ignore_index=True)[ESTIMATE_COLUMNS]
    estimates, suppressed = _suppress(estimates, config.min_cell_size)
    clock.stop()

    costs = None
    if config.costs is not None:
        clock.start("costs", f"cost effects of {config.costs.design}")
        costs = _costs(panel, config, config.costs)
        clock.stop()

    clock.start("report", "writing tables, figures and report.html")
    files = [_write_csv(estimates, out / "estimates.csv")]
    if costs is not None:
        files.append(_write_csv(costs["effects"], out / "cost_effects.csv"))
        if len(costs["per_outcome"]):
            files.append(_write_csv(costs["per_outcome"], out / "cost_per_outcome.csv"))
    panel.audit.to_csv(out / "audit.csv")
    files.append(out / "audit.csv")
    if truth is not None:
        shutil.copyfile(truth, out / "truth.json")
        files.append(out / "truth.json")
    from effectmeting.report.study_report import write_outputs

    notes = [n for s in studies.values() for n in s.notes]
    if suppressed:
        notes.append(f"Disclosure: {suppressed} estimate rows rest on fewer than {config.min_cell_size} "
                     "municipalities; their numbers are left empty")
    files += write_outputs(out, config, panel, studies, estimates, costs, notes, clock.timings)
    clock.stop()

    _write_run_manifest(out, panel, sources, config, overrides, clock.timings, files)
    if not quiet:
        total = sum(clock.timings.values())
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in clock.timings.items())
        print(f"[effectmeting run] done in {total:.1f} s ({stages}); outputs in {out}", file=sys.stderr)
    return RunResult(out_dir=out, estimates=estimates, timings=clock.timings, studies=studies, files=files,
                     notes=notes)


def _costs(panel, config: AnalysisConfig, request: CostRequest) -> dict:
    """L's cost_effect and cost_per_outcome for ``[costs]`` (``request``)."""
    from effectmeting.costs import cost_effect, cost_per_outcome

    # the cost effects compare with the same municipalities as the design's outcome effects
    control = next(d.control for d in config.designs if d.name == request.design)
    try:
        effect = cost_effect(panel, design=request.design, lines=request.lines, horizon=request.horizon,
                             estimator=request.estimator, control=control)
        ratios = []
        for line, outcome in request.cost_per_outcome:
            result = cost_per_outcome(panel, design=request.design, cost_line=line, outcome=outcome,
                                      n_draws=request.bootstrap, seed=config.seed, estimator=request.estimator,
                                      control=control)
            ratios.append(result)
    except (IdentificationError, OptionError) as exc:
        raise AnalysisConfigError(f"{config.path}: costs: {exc}") from None
    effects = effect.estimates().assign(design=request.design, estimator=request.estimator, control=control)
    per_outcome = (pd.concat([r.estimates().assign(design=request.design, estimator=request.estimator, control=control,
                                              cost_line=r.cost_line, outcome=r.outcome, n_units=r.n_units)
                              for r in ratios], ignore_index=True) if ratios else pd.DataFrame())
    return {"result": effect, "ratios": ratios, "effects": effects, "per_outcome": per_outcome}


def _carry_out_case_study(config: AnalysisConfig, out: Path, clock: _Clock, overrides: dict, quiet: bool,
                          panel, sources: Path, truth: Path | None) -> RunResult:
    """A ``[case_study]`` file without designs: the municipality against its synthetic twin, written as
    ``case_study.csv`` (one row per outcome), ``case_study_weights.csv``, ``case_study_gaps.csv``,
    ``case_study_placebos.csv``, figures and ``report.html``."""
    from effectmeting.study.case_study import case_study

    request = config.case_study
    assert request is not None
    clock.start("estimate", f"case study {request.municipality}: {request.design}")
    try:
        study = case_study(panel, municipality=request.municipality, design=request.design,
                           outcomes=request.outcomes, estimator=request.estimator, n_draws=request.n_draws,
                           min_pre_periods=request.min_pre_periods, max_pre_rmspe=request.max_pre_rmspe,
                           seed=config.seed)
    except (IdentificationError, OptionError) as exc:
        raise AnalysisConfigError(f"{config.path}: case_study: {exc}") from None
    clock.stop()
    clock.start("report", "writing the case-study tables, figures and report.html")
    estimates = study.estimates()
    files = [_write_csv(estimates, out / "case_study.csv")]
    for name, method in (("weights", "tidy_weights"), ("gaps", "gaps"), ("placebos", "placebos")):
        frame = pd.concat([getattr(r, method)().assign(outcome=o) for o, r in study.results.items()],
                          ignore_index=True)
        files.append(_write_csv(frame, out / f"case_study_{name}.csv"))
    panel.audit.to_csv(out / "audit.csv")
    files.append(out / "audit.csv")
    if truth is not None:
        shutil.copyfile(truth, out / "truth.json")
        files.append(out / "truth.json")
    from effectmeting.report.case_study_report import write_case_study_report

    provenance = {"analysis": str(config.path.name), "seed": config.seed, "municipality": request.municipality,
                  "design": request.design, "estimator": request.estimator}
    files += write_case_study_report(out / "report.html", study, config.language, provenance, out / "figures",
                                     config.figure_format)
    clock.stop()
    _write_run_manifest(out, panel, sources, config, overrides, clock.timings, files)
    if not quiet:
        print(f"[effectmeting run] done; outputs in {out}", file=sys.stderr)
    return RunResult(out_dir=out, estimates=estimates, timings=clock.timings, studies={"case_study": study},
                     files=files, notes=list(study.notes))


def _write_run_manifest(out: Path, panel, sources, config, overrides, timings: dict, files: list[Path]) -> None:
    """The run's manifest (input hashes, settings, seed, timings, outputs) for a design or a case-study
    run alike; appends ``manifest.json`` to ``files``."""
    from effectmeting.manifest import write_manifest

    inputs: list[str | Path] = [Path(s["path"]) for s in panel.sources]
    inputs += [sources, config.path]
    # StatLine metadata (units, decimals, labels) and declarations, for the sources that have them
    statline = {s["name"]: s["statline"] for s in panel.sources if "statline" in s}
    write_manifest(out / "manifest.json", inputs=inputs, seed=config.seed,
                   settings={"command": "run", "analysis_file": str(config.path), "analysis": config.text,
                             "demo": config.demo, "demo_seed": config.demo_seed, "language": config.language,
                             "overrides": overrides},
                   extra={"timings_seconds": timings,
                          "outputs": sorted(str(f.relative_to(out)) for f in files) + ["manifest.json"],
                          **({"statline_sources": statline} if statline else {})})
    files.append(out / "manifest.json")
