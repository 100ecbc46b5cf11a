"""The estimation frame of a design for the cost modules: panel columns + first adoption year.

Shared by :mod:`.effects`, :mod:`.per_outcome` and :mod:`effectmeting.planning.power` so that all
of them treat designs, switchers and missing values the same way.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from effectmeting.designs.spec import parse_design
from effectmeting.designs.treatments import derive_treatment
from effectmeting.errors import IdentificationError
from effectmeting.harmonise.panel import KEY_COLUMNS, Panel

COHORT = "first_adoption_year"


@dataclass
class EstimationFrame:
    """Long frame (municipality, year, the asked columns, ``first_adoption_year``) and what was left out."""

    data: pd.DataFrame
    excluded: pd.DataFrame        # municipality, reason (switchers, missing values)
    notes: list[str]


def estimation_frame(panel: Panel, design: str, columns: list[str],
                     extra: pd.DataFrame | None = None) -> EstimationFrame:
    """Panel rows of the design's absorbing-treatment municipalities with complete ``columns``.

    ``extra``: more columns keyed by ``municipality, year`` (e.g. :func:`~.lines.cost_lines`).
    Municipalities that switched back are excluded (:meth:`TreatmentTiming.absorbing`); so is
    every municipality with a missing value in any of ``columns`` in any year, because the
    estimators need a balanced panel; each exclusion is listed with its reason and noted in
    ``panel.audit`` (stage ``costs``).
    """
    timing = derive_treatment(panel, **parse_design(design).treatment_arguments(), audit=panel.audit)
    path, switched = timing.absorbing()
    data = panel.data if extra is None else panel.data.drop(
        columns=[c for c in extra.columns if c in panel.data.columns and c not in KEY_COLUMNS]).merge(
        extra, on=KEY_COLUMNS, how="left")
    absent = [c for c in columns if c not in data.columns]
    if absent:
        raise IdentificationError(f"{design}: column(s) {absent} are not in the panel; available: "
                                  f"{[c for c in data.columns if c not in KEY_COLUMNS]}")
    frame = data[[*KEY_COLUMNS, *columns]].merge(path[[*KEY_COLUMNS, COHORT]], on=KEY_COLUMNS, how="inner")
    incomplete = frame.loc[frame[columns].isna().any(axis=1)]
    missing_units = sorted(incomplete["municipality"].unique())
    excluded = [switched[["municipality", "reason"]]]
    notes = []
    if missing_units:
        which = incomplete.groupby("municipality")[columns].apply(
            lambda part: ", ".join(c for c in columns if part[c].isna().any()))
        reasons = pd.DataFrame({"municipality": which.index,
                                "reason": "missing value(s) in " + which.to_numpy().astype(object)
                                + "; left out to keep the panel balanced"})
        excluded.append(reasons)
        frame = frame.loc[~frame["municipality"].isin(missing_units)]
        panel.audit.note(stage="costs", source=design, municipality=reasons["municipality"].tolist(),
                         detail=reasons["reason"].tolist())
        notes.append(f"{len(missing_units)} municipality(ies) left out for missing values in {columns}.")
    if len(switched):
        notes.append(f"{len(switched)} municipality(ies) left out: switched back on {design} (absorbing treatment).")
    return EstimationFrame(data=frame.reset_index(drop=True),
                           excluded=pd.concat(excluded, ignore_index=True), notes=notes)
