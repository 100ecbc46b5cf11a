"""Panel: the harmonised municipality x year data set, with its provenance and audit log.

Stored as a directory of Parquet files plus one JSON file for metadata (no pickle):
``data.parquet``, ``designs.parquet``, ``variables.parquet``, ``audit.parquet``,
``audit_events.parquet`` and ``metadata.json`` (reference year, price base year, sources).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from effectmeting.errors import InputError
from effectmeting.harmonise.audit import EVENT_COLUMNS, FRAME_COLUMNS, AuditLog

# CBS-style municipality size classes (gemeentegrootte) by inhabitants on 1 January, collapsed to
# five classes: [0, 10k), [10k, 20k), [20k, 50k), [50k, 100k), [100k, inf).
SIZE_CLASS_EDGES = [0, 10_000, 20_000, 50_000, 100_000, np.inf]
SIZE_CLASS_LABELS = ["<10k", "10k-20k", "20k-50k", "50k-100k", "100k+"]
KEY_COLUMNS = ["municipality", "year"]
FORMAT_VERSION = 1


def size_class(population: pd.Series) -> pd.Series:
    """Size class per row from inhabitants: ``<10k``, ``10k-20k``, ``20k-50k``, ``50k-100k``, ``100k+``.

    Lower bounds are inclusive (a municipality of exactly 20,000 inhabitants is ``20k-50k``);
    missing or negative population gives NA.
    """
    values = pd.to_numeric(population, errors="coerce")
    classes = pd.cut(values, SIZE_CLASS_EDGES, right=False, labels=SIZE_CLASS_LABELS)
    return pd.Series(classes, index=population.index, name="size_class")


@dataclass
class Balance:
    """Whether the panel is balanced, its units and years, and the missing unit-years."""

    balanced: bool
    units: list[str]
    years: list[int]
    missing: pd.DataFrame  # municipality, year

    def __repr__(self) -> str:
        return (f"Balance(balanced={self.balanced}, units={len(self.units)}, years={self.years}, "
                f"missing unit-years={len(self.missing)})")


@dataclass
class Panel:
    """Harmonised panel on the municipalities of ``reference_year``; money in ``price_base_year`` euros."""

    data: pd.DataFrame
    designs: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["municipality", "year", "dimension", "value"]))
    variables: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["name", "unit", "source", "description"]))
    reference_year: int | None = None
    price_base_year: int | None = None
    sources: list[dict] = field(default_factory=list)
    audit: AuditLog = field(default_factory=AuditLog)

    def __post_init__(self) -> None:
        missing = [c for c in KEY_COLUMNS if c not in self.data.columns]
        if missing:
            raise InputError(f"Panel data lacks key column(s) {missing}")
        data = self.data.sort_values(KEY_COLUMNS, kind="mergesort").reset_index(drop=True)
        if "population_total" in data.columns and "size_class" not in data.columns:
            data["size_class"] = size_class(data["population_total"])
        self.data = data

    # -- structure -------------------------------------------------------------------------
    def _grid(self) -> pd.DataFrame:
        units = sorted(self.data["municipality"].unique())
        years = sorted(int(y) for y in self.data["year"].unique())
        return pd.MultiIndex.from_product([units, years], names=KEY_COLUMNS).to_frame(index=False)

    @property
    def value_columns(self) -> list[str]:
        return [c for c in self.data.columns if c not in KEY_COLUMNS]

    def balance(self) -> Balance:
        """Balanced if every municipality has a row in every year of the panel."""
        grid = self._grid()
        present = self.data[KEY_COLUMNS].drop_duplicates()
        joined = grid.merge(present, on=KEY_COLUMNS, how="left", indicator=True)
        missing = joined.loc[joined["_merge"] == "left_only", KEY_COLUMNS].reset_index(drop=True)
        return Balance(balanced=missing.empty, units=sorted(grid["municipality"].unique().tolist()),
                       years=sorted(grid["year"].unique().tolist()), missing=missing)

    def gaps(self) -> pd.DataFrame:
        """Per variable, the municipality-years without a value (absent row or NA): ``variable, municipality, year``."""
        full = self._grid().merge(self.data, on=KEY_COLUMNS, how="left")
        long = full.melt(id_vars=KEY_COLUMNS, value_vars=self.value_columns, var_name="variable")
        gaps = long.loc[long["value"].isna(), ["variable", *KEY_COLUMNS]]
        return gaps.sort_values(["variable", *KEY_COLUMNS], kind="mergesort").reset_index(drop=True)

    def coverage(self) -> pd.DataFrame:
        """Share of municipality-years with a value, per variable (rows) and year (columns)."""
        full = self._grid().merge(self.data, on=KEY_COLUMNS, how="left")
        present = full[self.value_columns].notna()
        present["year"] = full["year"].to_numpy()
        table = present.groupby("year").mean().T
        table.index.name = "variable"
        return table

    def summary(self) -> str:
        """Readable text: dimensions, balance, coverage, sources and audit counts."""
        balance = self.balance()
        coverage = self.coverage()
        lines = [
            f"Panel: {len(balance.units)} municipalities x {len(balance.years)} years "
            f"({min(balance.years, default='-')}-{max(balance.years, default='-')}), {len(self.data)} rows",
            f"Boundaries of reference year {self.reference_year}; money in constant euros of {self.price_base_year}",
            f"Balanced: {'yes' if balance.balanced else f'no ({len(balance.missing)} missing municipality-years)'}",
            f"Design values: {len(self.designs)} rows over "
            f"{self.designs['dimension'].nunique() if 'dimension' in self.designs else 0} dimension(s)",
            "Coverage (share of municipality-years with a value, lowest year):",
        ]
        for variable, row in coverage.iterrows():  # one line per variable, not per data row
            lines.append(f"  {variable:<40} min {row.min():6.1%}  mean {row.mean():6.1%}")
        if self.sources:
            lines.append("Sources:")
            lines += [f"  {s.get('name', '?')}: {s.get('path', '?')} ({s.get('rows', '?')} rows, "
                      f"sha256 {str(s.get('sha256', '?'))[:12]}...)" for s in self.sources]
        summary = self.audit.summary()
        if len(summary):
            lines.append("Audit (input rows per action):")
            lines += ["  " + line for line in summary.to_string().splitlines()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        b = self.balance()
        return (f"Panel({len(b.units)} municipalities x {len(b.years)} years, reference_year={self.reference_year}, "
                f"price_base_year={self.price_base_year}, columns={self.value_columns})")

    # -- storage ---------------------------------------------------------------------------
    def to_parquet(self, directory: str | Path) -> Path:
        """Write the panel to ``directory`` (created if needed); returns the directory."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        data = self.data.copy()
        if "size_class" in data.columns:
            data["size_class"] = data["size_class"].astype("string")
        data.to_parquet(directory / "data.parquet", index=False)
        self.designs.reset_index(drop=True).to_parquet(directory / "designs.parquet", index=False)
        self.variables.reset_index(drop=True).astype("string").to_parquet(directory / "variables.parquet", index=False)
        self.audit.frame.to_parquet(directory / "audit.parquet", index=False)
        self.audit.events.astype({c: "string" for c in EVENT_COLUMNS if c != "year"}).to_parquet(
            directory / "audit_events.parquet", index=False)
        metadata = {"format_version": FORMAT_VERSION, "reference_year": self.reference_year,
                    "price_base_year": self.price_base_year, "sources": self.sources}
        (directory / "metadata.json").write_text(json.dumps(metadata, indent=2, sort_keys=True, default=str) + "\n",
                                                 encoding="utf-8")
        return directory

    @classmethod
    def from_parquet(cls, directory: str | Path) -> Panel:
        """Read a panel written by :meth:`to_parquet`."""
        directory = Path(directory)
        try:
            metadata = json.loads((directory / "metadata.json").read_text(encoding="utf-8"))
            data = pd.read_parquet(directory / "data.parquet")
            designs = pd.read_parquet(directory / "designs.parquet")
            variables = pd.read_parquet(directory / "variables.parquet")
            audit_frame = pd.read_parquet(directory / "audit.parquet")
            events = pd.read_parquet(directory / "audit_events.parquet")
        except FileNotFoundError as exc:
            raise InputError(f"{directory} is not a saved Panel: {exc.filename} is missing") from exc
        if "size_class" in data.columns:
            data["size_class"] = pd.Categorical(data["size_class"], categories=SIZE_CLASS_LABELS, ordered=True)
        audit = AuditLog()
        if len(audit_frame):
            audit.record(**{c: audit_frame[c].to_numpy() for c in FRAME_COLUMNS})
        if len(events):
            audit.note(**{c: events[c].tolist() for c in EVENT_COLUMNS})
        return cls(data=data, designs=designs, variables=variables, reference_year=metadata.get("reference_year"),
                   price_base_year=metadata.get("price_base_year"), sources=metadata.get("sources", []), audit=audit)
