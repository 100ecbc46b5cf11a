"""Command line: a thin shell over the package (``effectmeting --help``).

Every :class:`~effectmeting.errors.EffectmetingError` is printed as one message on stderr (no
traceback) with exit status 2; ``validate`` exits 1 when the file breaks its schema.  Progress
bars (stderr, only on a terminal, never with ``--quiet``) come from :mod:`effectmeting.progress`.
Warnings of the libraries underneath (pandas, pyfixest, statsmodels, ...) are meant for their
programmers, not for the analyst at the command line, and are silenced here by category and
module; effectmeting's own warnings (:class:`~effectmeting.errors.EffectmetingWarning`) are shown.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

from effectmeting import __version__
from effectmeting.defaults import DEFAULT_SEED
from effectmeting.errors import EffectmetingError, EffectmetingWarning, InputError, SchemaValidationError, not_a_file

#: packages whose warnings never reach the command-line user (module names, matched at the start)
DEPENDENCY_MODULES = ("pandas", "numpy", "scipy", "statsmodels", "linearmodels", "pyfixest", "pandera", "pyarrow",
                      "matplotlib", "formulaic", "numba", "polars", "narwhals", "duckdb", "tqdm")
#: warning categories addressed to programmers (API changes), silenced from every module
PROGRAMMER_WARNINGS = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="effectmeting", description=(
        "Harmonised municipality x year panels on Dutch local social teams (wijkteams)."))
    parser.add_argument("--version", action="version", version=f"effectmeting {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    harmonise = commands.add_parser("harmonise", help="build a harmonised panel from a sources manifest",
                                    description="Read, validate and harmonise the sources to one reference year; "
                                    "write panel.parquet, panel_metadata.json, audit.csv and manifest.json.")
    source = harmonise.add_mutually_exclusive_group()
    source.add_argument("--sources", type=Path, metavar="FILE.toml", help="sources manifest (sources.toml)")
    source.add_argument("--demo", action="store_true",
                        help="generate the demo sources into OUT/demo_sources first (default without --sources)")
    harmonise.add_argument("--seed", type=int, default=None, help=f"seed of the demo data (default {DEFAULT_SEED})")
    harmonise.add_argument("--reference-year", type=int, default=2023, help="boundaries of this year (default 2023)")
    harmonise.add_argument("--price-base-year", type=int, default=2023, help="constant euros of this year")
    harmonise.add_argument("--design-rule", default="largest_population",
                           choices=["largest_population", "unanimous", "population_share"],
                           help="how design values of merging municipalities combine")
    harmonise.add_argument("--out", type=Path, required=True, metavar="DIR", help="output directory")

    demo = commands.add_parser("demo", help="write the demo source files, sources.toml and truth.json")
    demo.add_argument("--out", type=Path, required=True, metavar="DIR")
    demo.add_argument("--seed", type=int, default=None, help=f"random seed (default {DEFAULT_SEED})")

    validate = commands.add_parser(
        "validate", help="check one file against a table schema",
        description="Read FILE as harmonise would (rename columns, normalise municipality codes) and check it "
        "against the schema; print OK or every failure (exit status 1).")
    validate.add_argument("file", type=Path)
    validate.add_argument("--schema", required=True, help="schema name, e.g. outcomes, costs, population")
    validate.add_argument("--format", default="auto", help="auto, csv, csv_nl, parquet or cbs_statline")
    validate.add_argument("--failures", type=Path, metavar="FAILURES.csv",
                          help="write every failure (file, row, field, value, problem) to this CSV file")
    validate.add_argument("--sources", type=Path, metavar="FILE.toml",
                          help="take the format and column renames of FILE from this sources manifest")
    run = commands.add_parser(
        "run", help="carry out an analysis file (TOML)",
        description="Harmonise, estimate, cost and report as the analysis file says; write estimates.csv, tables/, "
        "figures/, report.html, audit.csv and manifest.json. The analysis file is checked (also its outcome "
        "names against the sources' columns) before any data is read; a failed run leaves no output behind.")
    run.add_argument("analysis", type=Path, metavar="ANALYSIS.toml")
    run.add_argument("--out", type=Path, default=None, metavar="DIR",
                     help="output directory (default results/<name of the analysis file>)")
    run.add_argument("--lang", choices=["nl", "en"], default=None,
                     help="language of the report (overrides [analysis] language)")
    run.add_argument("--seed", type=int, default=None, metavar="N",
                     help="seed of the bootstrap draws (overrides [analysis] seed; the demo data keep [data] demo_seed)")
    run.add_argument("--quiet", action="store_true",
                     help="no stage lines or progress bars on stderr; only the output folder is printed")
    return parser


def _seed(seed: int | None) -> None:
    if seed is not None and seed < 0:
        raise InputError(f"--seed {seed}: a seed must be a whole number >= 0 (e.g. 20240101)")


def _run(args: argparse.Namespace) -> int:
    from effectmeting.analysis.folders import check_output_path
    from effectmeting.analysis.run import run_analysis
    from effectmeting.progress import progress_enabled

    _seed(args.seed)
    out = args.out if args.out is not None else Path("results") / args.analysis.stem
    check_output_path(out)
    with progress_enabled(not args.quiet):
        result = run_analysis(args.analysis, out, quiet=args.quiet, language=args.lang, seed=args.seed)
    if args.quiet:
        print(out)  # scripts still learn where the outputs went
    else:
        print(f"{len(result.estimates)} estimates written to {out / 'estimates.csv'}; report: {out / 'report.html'}")
    return 0


def _harmonise(args: argparse.Namespace) -> int:
    from effectmeting.analysis.folders import output_folder

    _seed(args.seed)
    if args.sources is not None and args.seed is not None:
        raise InputError("--seed only applies to the demo data; drop it or use --demo")
    with output_folder(args.out) as out:
        return _harmonise_into(args, out)


def _harmonise_into(args: argparse.Namespace, out: Path) -> int:
    from effectmeting.harmonise.pipeline import harmonise
    from effectmeting.manifest import write_manifest

    seed = None
    if args.sources is None:
        from effectmeting.sources.demo import generate_demo

        seed = DEFAULT_SEED if args.seed is None else args.seed
        sources = generate_demo(out / "demo_sources", seed=seed)["sources"]
    else:
        sources = args.sources
    panel = harmonise(sources, reference_year=args.reference_year, price_base_year=args.price_base_year,
                      design_rule=args.design_rule)
    panel_dir = panel.to_parquet(out / "panel")
    data = panel.data.copy()
    if "size_class" in data.columns:
        data["size_class"] = data["size_class"].astype("string")
    data.to_parquet(out / "panel.parquet", index=False)
    (out / "panel_metadata.json").write_text((panel_dir / "metadata.json").read_text(encoding="utf-8"),
                                             encoding="utf-8")
    panel.audit.to_csv(out / "audit.csv", events_path=out / "audit_events.csv")
    settings = {"command": "harmonise", "sources": str(sources), "reference_year": args.reference_year,
                "price_base_year": args.price_base_year, "design_rule": args.design_rule, "boundary": "ignore"}
    inputs: list[str | Path] = [Path(s["path"]) for s in panel.sources]
    inputs.append(Path(sources))
    write_manifest(out / "manifest.json", inputs=inputs,
                   settings=settings, seed=seed,
                   extra={"outputs": ["panel.parquet", "panel_metadata.json", "panel/", "audit.csv",
                                      "audit_events.csv"]})
    print(panel.summary())
    print(f"\nWritten to {out}: panel.parquet, panel_metadata.json, panel/, audit.csv, audit_events.csv, manifest.json")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from effectmeting.sources.demo import generate_demo

    from effectmeting.analysis.folders import output_folder

    _seed(args.seed)
    with output_folder(args.out):
        result = generate_demo(args.out, seed=DEFAULT_SEED if args.seed is None else args.seed)
    print(f"Demo data for {result['units']} municipalities written to {args.out}:")
    for name, path in result["files"].items():
        print(f"  {name:<18} {Path(path).name}")
    print(f"  sources manifest   {Path(result['sources']).name}\n  true effects       {Path(result['truth']).name}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from effectmeting.errors import HarmonisationError
    from effectmeting.harmonise.pipeline import read_source
    from effectmeting.sources.sources_toml import SourceSpec, read_sources_manifest

    if not args.file.is_file():
        what = not_a_file(args.file, "file not found")
        raise InputError(f"{args.file}: {what}; check the path")
    fmt, columns = args.format, {}
    if args.sources is not None:
        matches = [s for s in read_sources_manifest(args.sources) if s.path.resolve() == args.file.resolve()]
        if not matches:
            raise InputError(f"{args.sources} has no [[source]] with path {args.file}")
        fmt, columns = matches[0].format, matches[0].columns
    spec = SourceSpec(name=args.file.name, path=args.file, table=args.schema, format=fmt, columns=columns)
    try:
        frame, rows = read_source(spec)
    except (SchemaValidationError, HarmonisationError) as exc:
        print(str(exc), file=sys.stderr)
        failures = getattr(exc, "failures", None)
        if args.failures is not None and failures is not None:
            failures.to_csv(args.failures, index=False, lineterminator="\n")
            print(f"All {len(failures)} failure(s) written to {args.failures}", file=sys.stderr)
        return 1
    print(f"OK: {args.file} matches schema {args.schema!r} ({rows} rows read, {len(frame)} municipality rows)")
    return 0


COMMANDS = {"harmonise": _harmonise, "demo": _demo, "validate": _validate, "run": _run}


@contextlib.contextmanager
def _user_facing_warnings() -> Iterator[None]:
    """Within the block, only warnings meant for the analyst reach stderr (see the module docstring)."""
    with warnings.catch_warnings():
        for category in PROGRAMMER_WARNINGS:
            warnings.simplefilter("ignore", category)
        for module in DEPENDENCY_MODULES:
            warnings.filterwarnings("ignore", module=rf"{module}(\.|$)")
        # added last, so checked first: effectmeting's own warnings always show (once per place)
        warnings.filterwarnings("default", category=EffectmetingWarning)
        warnings.showwarning = _show_warning  # restored by catch_warnings
        yield


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    # one line for the analyst: the message, not the source line of our code that raised it
    print(f"effectmeting: warning ({category.__name__}): {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 validation failures, 2 error)."""
    args = _parser().parse_args(argv)
    try:
        with _user_facing_warnings():
            return COMMANDS[args.command](args)
    except EffectmetingError as exc:
        print(f"effectmeting {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C: what the run created is already removed (output_folder); no traceback
        print(f"effectmeting {args.command}: interrupted; no outputs kept", file=sys.stderr)
        return 130
    except OSError as exc:
        # The file system refused (permissions, disk full, a path component that is a file): a
        # problem of the paths given, so one message rather than a traceback.
        where = f" {exc.filename}" if exc.filename else ""
        print(f"effectmeting {args.command}: error: cannot read or write{where}: {exc.strerror or exc}. Check "
              "the path, its permissions and the free disk space, then run again.", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
