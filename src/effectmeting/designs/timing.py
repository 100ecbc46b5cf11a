"""Treatment timing of one design choice: who adopted when, who switched back, and the yearly 0/1 path.

:class:`TreatmentTiming` is what :func:`effectmeting.designs.treatments.derive_treatment` returns.
Vocabulary as in the staggered-adoption literature (Callaway & Sant'Anna 2021):

* ``first_adoption_year`` — the *cohort*: first year the municipality is treated (``0`` = never
  treated in the observed years);
* ``treated_at_start`` — treated in its first observed year, so the adoption year is unknown and
  there is no pre-period; cohort = that first year, kept and flagged so a study can report them
  (DiD estimators refuse such units);
* ``switched_back`` — untreated again in a later year (e.g. help brought back to a plain 'loket').
  Absorbing-treatment estimators (Callaway-Sant'Anna, Sun-Abraham, imputation) cannot use these
  municipalities; :meth:`TreatmentTiming.absorbing` leaves them out and records why; the switching
  estimator of de Chaisemartin & D'Haultfoeuille uses the full path from :meth:`TreatmentTiming.switching`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from effectmeting.designs.dimensions import DesignError
from effectmeting.harmonise.audit import AuditLog

UNIT_COLUMNS = ["municipality", "first_adoption_year", "treated_at_start", "switched_back", "switch_back_year",
                "n_switches", "first_year_observed", "last_year_observed", "status"]
PATH_COLUMNS = ["municipality", "year", "treated", "years_since_adoption"]
EXCLUDED_COLUMNS = ["municipality", "reason"]
STATUSES = ("never_treated", "adopter", "treated_at_start", "switched_back")


def empty_excluded() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in EXCLUDED_COLUMNS})


def unit_boundaries(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows sorted by unit code: start position of each unit, and each row's unit number."""
    new_unit = np.ones(len(codes), dtype=bool)
    new_unit[1:] = codes[1:] != codes[:-1]
    return np.flatnonzero(new_unit), np.cumsum(new_unit) - 1


def timing_tables(names: pd.Index, codes: np.ndarray, year: np.ndarray, treated: np.ndarray
                  ) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Unit table, long path and each path row's unit number from rows sorted by (unit code, year).

    ``names[codes]`` is the municipality of a row; ``year`` int64; ``treated`` bool.  Consecutive
    rows of a unit are consecutive observed years (gaps are handled before this point).
    Columnar: per-unit statistics are ``ufunc.reduceat`` over the unit start positions.
    """
    starts, unit_of_row = unit_boundaries(codes)
    ends = np.append(starts[1:], len(codes))
    never = np.iinfo(np.int64).max
    first_adoption = np.minimum.reduceat(np.where(treated, year, never), starts)
    ever = first_adoption != never
    after_adoption = year > first_adoption[unit_of_row]
    back = ~treated & after_adoption
    switch_back_year = np.minimum.reduceat(np.where(back, year, never), starts)
    switched_back = switch_back_year != never
    change = np.zeros(len(codes), dtype=np.int64)
    change[1:] = (treated[1:] != treated[:-1]) & (unit_of_row[1:] == unit_of_row[:-1])
    n_switches = np.add.reduceat(change, starts)
    treated_at_start = treated[starts]
    status = np.select([switched_back, treated_at_start, ever], ["switched_back", "treated_at_start", "adopter"],
                       "never_treated")
    cohort = np.where(ever, first_adoption, 0)
    units = pd.DataFrame({
        "municipality": names[codes[starts]],
        "first_adoption_year": cohort,
        "treated_at_start": treated_at_start,
        "switched_back": switched_back,
        "switch_back_year": pd.arrays.IntegerArray(np.where(switched_back, switch_back_year, 0), ~switched_back),
        "n_switches": n_switches,
        "first_year_observed": year[starts],
        "last_year_observed": year[ends - 1],
        "status": status,
    })
    row_cohort = cohort[unit_of_row]
    since = year - row_cohort
    path = pd.DataFrame({
        "municipality": names[codes],
        "year": year,
        "treated": treated.astype(np.int8),
        # event time counts from the first adoption, also after a switch back
        "years_since_adoption": pd.arrays.IntegerArray(np.where(ever[unit_of_row], since, 0),
                                                       ~ever[unit_of_row] | (since < 0)),
    })
    return units, path, unit_of_row


@dataclass
class TreatmentTiming:
    """Treatment timing of one design choice (``label``, e.g. ``role=gives_help``), per municipality and year.

    ``units``: one row per municipality — ``municipality, first_adoption_year`` (cohort, 0 = never),
    ``treated_at_start, switched_back, switch_back_year`` (first untreated year after adoption, NA if
    none), ``n_switches`` (changes of treatment status, adoption included), ``first_year_observed,
    last_year_observed, status`` (``never_treated | adopter | treated_at_start | switched_back``;
    a switcher that was treated at start has status ``switched_back`` and ``treated_at_start`` True).
    ``path``: municipality x observed year — ``treated`` (0/1) and ``years_since_adoption`` (year minus
    first adoption year; NA for never-treated units and before adoption).
    ``excluded``: municipalities left out while deriving (other categories, gaps), with the reason;
    each is also noted in ``audit.events`` (stage ``designs``).
    """

    dimension: str
    label: str
    treated_value: str | None
    reference_value: str | None
    threshold: float | None
    units: pd.DataFrame
    path: pd.DataFrame
    excluded: pd.DataFrame
    audit: AuditLog
    _unit_of_row: np.ndarray = field(repr=False)
    # absorbing() notes its exclusions once per option, however often it is called
    _absorbing_noted: dict = field(default_factory=lambda: {"keep": False, "exclude": False}, repr=False)

    def absorbing(self, *, treated_at_start: str = "keep") -> tuple[pd.DataFrame, pd.DataFrame]:
        """Panel for absorbing-treatment estimators, and the municipalities left out (switched back).

        Returns ``(frame, excluded)``.  ``frame``: the path of every municipality that never switched
        back, with ``first_adoption_year`` (the estimators' ``cohort`` column; 0 = never) and
        ``treated_at_start`` added — merge it onto ``Panel.data`` by ``municipality, year``.
        ``excluded``: ``municipality, first_adoption_year, switch_back_year, n_switches, reason``.
        Each exclusion is noted once in the audit log (stage ``designs``), so the number of notes
        equals ``len(excluded)``.

        ``treated_at_start``: ``"keep"`` (default; estimators drop units whose cohort is the first
        period of the data) or ``"exclude"`` — needed when histories start in different years,
        because a unit whose history starts late and treated would look like a later adopter.
        """
        if treated_at_start not in ("keep", "exclude"):
            raise DesignError(f"treated_at_start={treated_at_start!r}: use 'keep' or 'exclude'")
        units = self.units
        switched = units["switched_back"].to_numpy(dtype=bool)
        at_start = units["treated_at_start"].to_numpy(dtype=bool) & ~switched
        drop = switched | (at_start if treated_at_start == "exclude" else False)
        keep_row = ~drop[self._unit_of_row]
        frame = self.path.loc[keep_row].reset_index(drop=True)
        unit_keep = self._unit_of_row[keep_row]
        frame["first_adoption_year"] = units["first_adoption_year"].to_numpy()[unit_keep]
        frame["treated_at_start"] = units["treated_at_start"].to_numpy()[unit_keep]
        out = units.loc[drop, ["municipality", "first_adoption_year", "switch_back_year", "n_switches"]]
        out = out.assign(reason=np.where(
            switched[drop],
            f"switched back on {self.label}: treated from " + out["first_adoption_year"].astype(str)
            + ", untreated again from " + out["switch_back_year"].astype(str) + " (" + out["n_switches"].astype(str)
            + " switches); an absorbing-treatment estimator cannot use it - use switching() with a "
            "switching estimator (de Chaisemartin-D'Haultfoeuille) to keep it",
            f"{self.label} already in its first observed year " + out["first_adoption_year"].astype(str)
            + ": adoption year unknown, no pre-period (treated_at_start='exclude')")).reset_index(drop=True)
        if not self._absorbing_noted[treated_at_start] and len(out):
            self.audit.note(stage="designs", source="designs", variable=self.label,
                            municipality=out["municipality"].tolist(), year=out["switch_back_year"].tolist(),
                            detail=("excluded from absorbing-treatment estimation: " + out["reason"]).tolist())
        self._absorbing_noted[treated_at_start] = True
        return frame, out

    def switching(self) -> pd.DataFrame:
        """The full 0/1 path ``municipality, year, treated`` (switchers included), for switching estimators."""
        return self.path[["municipality", "year", "treated"]].copy()

    def cohort_sizes(self) -> pd.DataFrame:
        """Municipalities per ``first_adoption_year`` (0 = never); how many were treated at start or switched back."""
        table = self.units.groupby("first_adoption_year", sort=True).agg(
            municipalities=("municipality", "size"), treated_at_start=("treated_at_start", "sum"),
            switched_back=("switched_back", "sum"))
        return table.astype("int64").reset_index()

    def summary(self) -> str:
        """One line per status and the cohort sizes, readable in a report."""
        counts = self.units["status"].value_counts().reindex(list(STATUSES), fill_value=0)
        cohorts = self.cohort_sizes()
        cohorts = cohorts[cohorts["first_adoption_year"] > 0]
        lines = [f"Treatment {self.label}: {len(self.units)} municipalities"
                 + (f", {len(self.excluded)} excluded while deriving" if len(self.excluded) else "")]
        lines += [f"  {status:<17} {int(n)}" for status, n in counts.items()]
        lines.append("  cohorts: " + ", ".join(f"{g}: {n}" for g, n in
                                             zip(cohorts["first_adoption_year"], cohorts["municipalities"])))
        return "\n".join(lines)

    def __repr__(self) -> str:
        counts = self.units["status"].value_counts()
        return (f"TreatmentTiming({self.label}: {len(self.units)} municipalities, "
                + ", ".join(f"{s} {int(counts.get(s, 0))}" for s in STATUSES)
                + f", excluded {len(self.excluded)})")
