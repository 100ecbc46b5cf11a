"""Demo data generator: raw source files as they would arrive, with known true effects.

:func:`generate_demo` simulates municipality x year data on the 342 municipalities of 2023 (see
:mod:`effectmeting.sources.demo_model` for the data-generating process and the planted effects) and
writes them the way the real sources deliver them, each in its own format and code style:

==================  =====================================  =========================================
file                format                                 codes
==================  =====================================  =========================================
population          CBS StatLine export (``;``, quoted)     ``"GM0363  "``, plus NL01 and PV20-PV31
outcomes            Dutch CSV, Latin-1, ``;``, thousands    ``363`` or ``0363``; ``x`` = suppressed
                    dot, decimal comma                      (count < 5), ``.`` = not available
costs               Parquet, long (taakveld, nominal euro)  ``GM363``
designs             CSV long (dimension, value)             official name or ``GM0363``
covariates          CSV                                     ``GM0363``
price_index         CSV, 2015 = 100                         -
transitions_2016    CSV (herindelingen of 1 January 2016)   ``GM0381``
==================  =====================================  =========================================

Every year uses the codes valid on 1 January of that year: predecessors of merged municipalities
appear under their old codes, their values apportioned from the successor (by a fixed size per
predecessor) so that harmonisation to 2023 rebuilds the successor; split municipalities
(Littenseradiel 2018, Winsum 2019, Haaren 2021) are small units of their own before the split,
with their own design values.  The bundled transitions table covers 1 January 2017-2023; the
demo therefore also writes the mergers of 1 January 2016 (Gooise Meren, Edam-Volendam) as a
transitions source, so that 2015 data on 2015 codes can be harmonised.  (Real Iv3 taakvelden
exist from 2017; the demo extends them back to ``first_year`` for simplicity.)

Same seed and arguments -> byte-identical files.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd

from effectmeting.defaults import DEFAULT_SEED
from effectmeting.errors import InputError
from effectmeting.sources import demo_model as model
from effectmeting.sources.demo_units import (REFERENCE_YEAR, TRANSITIONS_2016, apportion, code_sizes, demo_units,
                                             history_map, register_names, split_factor)

PROVINCES = [f"PV{n}" for n in range(20, 32)]

OUTCOME_HEADERS = {
    "youth_with_jeugdhulp": "Jongeren met jeugdhulp",
    "youth_with_jeugdhulp_verblijf": "Jongeren met jeugdhulp met verblijf",
    "youth_with_jeugdbescherming": "Jongeren met jeugdbescherming",
    "youth_with_jeugdreclassering": "Jongeren met jeugdreclassering",
    "adults_with_wmo": "Personen met Wmo-maatwerkvoorziening",
    "bijstand_recipients": "Personen met bijstand",
}
POPULATION_HEADERS = {"population_total": "TotaleBevolking_1", "population_0_17": "JongerenTot18Jaar_2",
                      "population_18_plus": "Volwassenen18JaarOfOuder_3"}


def generate_demo(out_dir: str | Path, *, seed: int = DEFAULT_SEED, first_year: int = 2015,
                  last_year: int = 2024) -> dict:
    """Write demo source files, ``sources.toml`` and ``truth.json`` into ``out_dir``.

    Parameters
    ----------
    out_dir : directory to write into (created if needed; existing demo files are overwritten).
    seed : seed of the random generator; the same seed gives byte-identical files.
    first_year, last_year : calendar years to simulate, within 2015-2024 (the register's span).
        Design adoption happens in 2016-2022 whatever the window.

    Units: population in persons on 1 January; outcome counts in persons during the year; costs
    in nominal euros per year; price index 2015 = 100.  ``truth.json`` states the true ATT of each
    design on each rate (per 1,000 youth 0-17 / adults 18+) and cost line (euros per inhabitant,
    constant euros of 2023): overall, by event time (-5..8) and by cohort.

    Returns a dict with ``sources`` (path of sources.toml), ``truth`` (path of truth.json),
    ``files`` (source name -> path) and ``units`` (number of simulated municipalities).
    """
    if not (2015 <= first_year < last_year <= 2024):
        raise InputError(f"demo years {first_year}-{last_year}: choose 2015 <= first_year < last_year <= 2024")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    years = np.arange(first_year, last_year + 1)
    units = model.characteristics(demo_units()["code"], rng)
    sim = model.simulate(units, years, rng)

    history = history_map(first_year, last_year)
    sizes = code_sizes(history, rng)
    unit_index = pd.MultiIndex.from_product([units["unit"], years], names=["unit", "year"])

    def long(values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame({"value": values.ravel()}, index=unit_index).reset_index()

    lam = split_factor(history, long(sim["counts"]["population_total"]))
    by_code = {name: apportion(history, long(values), sizes, lam).set_index(["year", "code"])["value"]
               for name, values in sim["counts"].items() if name != "population_18_plus"}
    by_code["population_18_plus"] = by_code["population_total"] - by_code["population_0_17"]
    euros = {tv: apportion(history, long(values), sizes, lam).set_index(["year", "code"])["value"]
             for tv, values in sim["euros"].items()}
    primary = _primary_unit(history)
    names = register_names()

    files = {
        "population": _write_population(out / "population_statline.csv", by_code, primary, rng),
        "outcomes": _write_outcomes(out / "outcomes_nl.csv", by_code, names, rng),
        "costs": _write_costs(out / "costs.parquet", euros),
        "designs": _write_designs(out / "designs.csv", sim["designs"], units, years, primary, names, rng),
        "covariates": _write_covariates(out / "covariates.csv", units, years, primary, rng),
        "price_index": _write_price_index(out / "price_index.csv", sim["prices"]),
        "transitions_2016": _write_transitions(out / "transitions_2016.csv"),
    }
    truth = {
        "description": "True effects planted in the effectmeting demo data. ATT = mean effect over adopters' "
                       "unit-years from first adoption on (Callaway-Sant'Anna 'simple' aggregation, first adoption "
                       "taken as absorbing); event time e = year - first adoption year.",
        "effect_model": model.__doc__.split("Planted effects", 1)[1].strip(),
        "caution": "Designs are adopted at correlated times (role=gives_help and target_group=all_ages both come "
                   "early in large, urban, deprived municipalities). Planted effects of the two designs are on "
                   "disjoint outcomes; an outcome with att 0 for one design can still show a spurious estimate "
                   "when it is moved by the other design.",
        "seed": seed, "first_year": first_year, "last_year": last_year, "reference_year": REFERENCE_YEAR,
        "price_base_year": 2023, "units": int(len(units)),
        "designs": model.truth(sim["designs"], sim["effects"], years),
    }
    truth_path = out / "truth.json"
    truth_path.write_text(json.dumps(truth, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    sources_path = _write_sources_toml(out / "sources.toml", seed)
    return {"sources": sources_path, "truth": truth_path, "files": files, "units": int(len(units))}


def _primary_unit(history: pd.DataFrame) -> pd.DataFrame:
    """``year, code, unit``: for every code the unit receiving its largest share (for copied values)."""
    ordered = history.sort_values(["year", "code", "weight", "unit"], ascending=[True, True, False, True],
                                  kind="mergesort")
    return ordered.drop_duplicates(["year", "code"])[["year", "code", "unit", "split"]].reset_index(drop=True)


def _dutch_integer(values: pd.Series) -> pd.Series:
    """Integers with a thousands dot (12.345), as Dutch spreadsheets write them."""
    return values.astype("int64").map("{:,}".format).str.replace(",", ".", regex=False)


def _write_population(path: Path, by_code: dict, primary: pd.DataFrame, rng: np.random.Generator) -> Path:
    frame = pd.DataFrame({POPULATION_HEADERS[k]: by_code[k] for k in POPULATION_HEADERS}).astype("int64")
    frame = frame.reset_index()
    frame["RegioS"] = frame["code"].str.ljust(8)
    # country and provinces, as in a StatLine selection "Nederland, provincies, gemeenten"
    province_of = pd.Series(rng.choice(PROVINCES, primary["unit"].nunique()), index=np.sort(primary["unit"].unique()))
    frame["province"] = frame["code"].map(primary.drop_duplicates("code").set_index("code")["unit"]).map(province_of)
    values = list(POPULATION_HEADERS.values())
    country = frame.groupby("year")[values].sum().reset_index().assign(RegioS="NL01    ")
    provinces = frame.groupby(["province", "year"])[values].sum().reset_index()
    provinces["RegioS"] = provinces["province"].str.ljust(8)
    table = pd.concat([country, provinces, frame], ignore_index=True)
    table["Perioden"] = table["year"].astype(str) + "JJ00"
    table = table.sort_values(["RegioS", "Perioden"], kind="mergesort", ignore_index=True)
    table.insert(0, "ID", np.arange(len(table)))
    table[["ID", "RegioS", "Perioden", *values]].to_csv(
        path, sep=";", index=False, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n", encoding="utf-8")
    return path


def _write_outcomes(path: Path, by_code: dict, names: pd.Series, rng: np.random.Generator) -> Path:
    counts = pd.DataFrame({k: by_code[k] for k in OUTCOME_HEADERS}).reset_index()
    digits = counts["code"].str[2:]
    counts.insert(0, "Gemeentecode", np.where(rng.random(len(counts)) < 0.5, digits.str.lstrip("0"), digits))
    counts.insert(1, "Gemeentenaam", counts["code"].map(names))
    out = counts[["Gemeentecode", "Gemeentenaam"]].copy()
    out["Jaar"] = counts["year"].astype(str)
    for name, header in OUTCOME_HEADERS.items():
        value = counts[name]
        text = _dutch_integer(value.fillna(0))
        text = text.where(value >= 5, "x")  # CBS privacy rule: small counts suppressed
        text = text.where(rng.random(len(value)) >= 0.005, ".")  # a few cells not available
        out[header] = text
    share = 100 * counts["youth_with_jeugdhulp"] / by_code["population_0_17"].to_numpy()
    out["Aandeel jongeren met jeugdhulp (%)"] = share.map("{:.1f}".format).str.replace(".", ",", regex=False)
    out.to_csv(path, sep=";", index=False, encoding="latin-1", lineterminator="\r\n")
    return path


def _write_costs(path: Path, euros: dict) -> Path:
    frames = [series.rename("lasten").reset_index().assign(taakveld=tv) for tv, series in euros.items()]
    table = pd.concat(frames, ignore_index=True).sort_values(["code", "year", "taakveld"], ignore_index=True)
    table["gemeente"] = "GM" + table["code"].str[2:].str.lstrip("0")
    table = table.rename(columns={"year": "jaar"})[["gemeente", "jaar", "taakveld", "lasten"]]
    table["jaar"] = table["jaar"].astype("int64")
    table.to_parquet(path, index=False, engine="pyarrow", compression="snappy")
    return path


def _write_designs(path: Path, design_values: dict, units: pd.DataFrame, years: np.ndarray, primary: pd.DataFrame,
                   names: pd.Series, rng: np.random.Generator) -> Path:
    index = pd.MultiIndex.from_product([units["unit"], years], names=["unit", "year"])
    unit_designs = pd.DataFrame({d: v.ravel() for d, v in design_values.items()}, index=index).reset_index()
    table = primary.merge(unit_designs, on=["unit", "year"], how="left")
    # split municipalities ran their own team: a plain triage desk (overruled by the design rule)
    table.loc[table["split"], "role"] = "triage_only"
    long = table.melt(id_vars=["year", "code"], value_vars=list(design_values), var_name="dimensie",
                      value_name="waarde").sort_values(["code", "year", "dimensie"], ignore_index=True)
    # surveys name the municipality; a registry extract gives codes
    by_name = rng.random(len(long)) < 0.7
    long["gemeente"] = np.where(by_name, long["code"].map(names), long["code"])
    long = long.rename(columns={"year": "jaar"})[["gemeente", "jaar", "dimensie", "waarde"]]
    long.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path


def _write_covariates(path: Path, units: pd.DataFrame, years: np.ndarray, primary: pd.DataFrame,
                      rng: np.random.Generator) -> Path:
    table = primary.merge(units[["unit", "urbanity", "deprivation", "single_parent"]], on="unit")
    noise = rng.normal(0, 0.05, len(table))
    out = pd.DataFrame({
        "municipality": table["code"], "year": table["year"], "urbanity": table["urbanity"],
        "deprivation_index": np.round(table["deprivation"] + noise, 3),
        "single_parent_share": np.round(table["single_parent"], 4),
    })
    out.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path


def _write_price_index(path: Path, prices: pd.Series) -> Path:
    pd.DataFrame({"year": prices.index, "index": prices.to_numpy()}).to_csv(
        path, index=False, encoding="utf-8", lineterminator="\n", float_format="%.2f")
    return path


def _write_transitions(path: Path) -> Path:
    # plain CSV without a comment line; the sources manifest describes the file
    TRANSITIONS_2016.to_csv(path, index=False, lineterminator="\n")
    return path


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=True)  # a JSON string is a valid TOML basic string here


def _write_sources_toml(path: Path, seed: int) -> Path:
    outcome_columns = {"Gemeentecode": "municipality", "Jaar": "year",
                       **{header: name for name, header in OUTCOME_HEADERS.items()}}
    sources = [
        ("population", "population_statline.csv", "population", "cbs_statline",
         {"RegioS": "municipality", **{v: k for k, v in POPULATION_HEADERS.items()}},
         "CBS StatLine-style export; NL01 and provinces are set aside by the reader"),
        ("outcomes", "outcomes_nl.csv", "outcomes", "csv_nl", outcome_columns,
         "Dutch CSV (Latin-1); counts < 5 suppressed as x; Gemeentenaam and the percentage column are not used"),
        ("costs", "costs.parquet", "costs", "parquet",
         {"gemeente": "municipality", "jaar": "year", "lasten": "euros"}, "Iv3 lasten per taakveld, nominal euros"),
        ("designs", "designs.csv", "designs", "csv",
         {"gemeente": "municipality", "jaar": "year", "dimensie": "dimension", "waarde": "value"},
         "design histories; municipality given by name or code"),
        ("covariates", "covariates.csv", "covariates", "csv", {}, "characteristics"),
        ("price_index", "price_index.csv", "price_index", "csv", {}, "demo price index, 2015 = 100"),
        ("transitions_2016", "transitions_2016.csv", "transitions", "csv", {},
         "herindelingen of 1 January 2016 (public record, CBS 'Gemeentelijke indeling'): Bussum, Muiden "
         "and Naarden into Gooise Meren; Zeevang into Edam-Volendam; added to the bundled 2017-2023 transitions"),
    ]
    lines = [f"# effectmeting sources manifest: demo data (seed {seed}). Paths are relative to this file.", ""]
    for name, file, table, fmt, columns, description in sources:
        lines += ["[[source]]", f"name = {_toml_string(name)}", f"path = {_toml_string(file)}",
                  f"table = {_toml_string(table)}", f"format = {_toml_string(fmt)}",
                  f"description = {_toml_string(description)}"]
        if table not in ("price_index", "transitions"):
            lines.append('code_column = "municipality"')
        if columns:
            lines.append("[source.columns]")
            lines += [f"{_toml_string(k)} = {_toml_string(v)}" for k, v in columns.items()]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
