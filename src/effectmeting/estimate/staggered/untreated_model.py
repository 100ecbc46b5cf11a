"""The untreated-outcome model shared by the imputation estimator and Gardner's two-stage DiD.

Both fit ``Y_it(0) = sum_f alpha_f[level of row it] + X_it'gamma`` by (weighted) least squares
on the untreated observations only, then predict ``Y_it(0)`` on every row.  The fixed effects
are chosen like Stata ``did_imputation``'s ``fe()`` and R ``did2s``'s first stage: the default is
unit and period, any other columns may stand in (``fe=["state", "year"]``: state instead of unit
effects), and ``"a^b"`` is the combination of two columns (fixest's notation, e.g.
``"region^year"``: region-specific period effects).

The fixed effects enter as explicit sparse dummies (the first factor with every level, each
further factor without its first level), solved by a sparse LU of the normal equations
(:class:`effectmeting.estimate.core.solver.DummyNormalEquations`): both estimators apply the same
inverse ``(Z0'W0 Z0)^-1`` to their targets.  A level that occurs only on treated rows has no
untreated observation to estimate it from and is refused with the column and level named.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from effectmeting.errors import IdentificationError, InputError, OptionError
from effectmeting.estimate.core.checks import numeric_column
from effectmeting.estimate.core.data import appearance_codes, refuse_missing


@dataclass
class FixedEffects:
    """The fixed effects of the untreated model: one code array (0..levels-1, one entry per row)
    and one label array per factor, named as the user wrote them."""

    names: list[str]
    codes: list[np.ndarray]
    sizes: list[int]
    labels: list[np.ndarray]
    #: unit- or period-specific coefficients on a variable (Stata ``did_imputation``'s
    #: ``unitcontrols``/``timecontrols``): (name, codes of the unit or period, their number, values)
    slopes: list[tuple[str, np.ndarray, int, np.ndarray]] = field(default_factory=list)

    @property
    def is_unit_and_period(self) -> bool:
        """Two factors and no specific slopes (the case the pre-trend regression absorbs)."""
        return len(self.codes) == 2 and not self.slopes


def fixed_effects(data: pd.DataFrame, fe: Sequence[str] | str | None, *, unit: str, time: str,
                  unit_codes: np.ndarray, n_units: int, time_codes: np.ndarray, n_times: int,
                  who: str) -> FixedEffects:
    """Factor codes for ``fe`` (default ``[unit, time]``); the rows of ``data`` in their order.

    ``unit`` and ``time`` reuse the checked codes of the door; other columns are checked here
    (present, no missing value) and numbered in order of first appearance.
    """
    names = [unit, time] if fe is None else ([fe] if isinstance(fe, str) else list(fe))
    if not names or not all(isinstance(n, str) and n for n in names):
        raise OptionError(f"{who}: fe={fe!r}; give a list of column names such as [{unit!r}, {time!r}] "
                          "(a combination of two columns as 'a^b')", reason="option")
    if len(set(names)) < len(names):
        raise OptionError(f"{who}: fe={names} names a fixed effect twice", reason="option")
    codes, sizes, labels = [], [], []
    for name in names:
        if name in (unit, time):
            codes.append(unit_codes if name == unit else time_codes)
            sizes.append(n_units if name == unit else n_times)
            labels.append(data[name].to_numpy())
            continue
        parts = name.split("^")
        absent = [p for p in parts if p not in data.columns]
        if absent or not all(parts):
            raise OptionError(f"{who}: fixed effect {name!r}: column(s) {absent or [name]} not in the data; "
                              f"available columns: {list(data.columns)}.", reason="unknown_column")
        for part in parts:
            refuse_missing(data[part], who)
        frame = data[parts]
        raw = frame.iloc[:, 0].to_numpy() if len(parts) == 1 else pd.MultiIndex.from_frame(frame).to_numpy()
        code, size = appearance_codes(pd.factorize(raw)[0])
        codes.append(code)
        sizes.append(size)
        labels.append(np.asarray(raw))
    return FixedEffects(names, codes, sizes, labels)


def add_slopes(effects: FixedEffects, data: pd.DataFrame, variables: Sequence[str] | str | None, *,
               by: str, codes: np.ndarray, size: int, who: str) -> None:
    """Add ``by``-specific coefficients (``by`` the unit or the period column) on each of
    ``variables`` (numeric, no missing value); e.g. unit-specific linear trends with
    ``variables=[time]`` and ``by=unit``."""
    for name in [variables] if isinstance(variables, str) else list(variables or []):
        if name not in data.columns:
            raise OptionError(f"{who}: control {name!r} is not in the data; available columns: "
                              f"{list(data.columns)}.", reason="unknown_column")
        refuse_missing(data[name], who)
        effects.slopes.append((f"{by}[{name}]", codes, size, numeric_column(data[name], who)))


def group_effects_hint(exc: InputError, unit: str, time: str, who: str) -> InputError:
    """The door's refusal of repeated (unit, period) rows, with the way to group-level effects:
    ``unit="state"`` repeats state-years, ``fe=["state", time]`` is what was meant."""
    if exc.reason != "duplicate_rows":
        return exc
    return InputError(f"{exc} If {unit!r} is a group of units (a state, a region) whose effects you want in the "
                      f"untreated model, pass the unit itself as unit= and the group as {who}(..., "
                      f"fe=[{unit!r}, {time!r}]).", reason="duplicate_rows")


def design(effects: FixedEffects, covariates: np.ndarray, rows: np.ndarray) -> sp.csr_matrix:
    """Dummies of every factor (the first with all levels, the others without level 0), the
    covariates and the unit- or period-specific slopes, for ``rows``; the same columns whatever
    the rows."""
    n = rows.size
    blocks = []
    for position, (code, size) in enumerate(zip(effects.codes, effects.sizes)):
        c = code[rows]
        if position == 0:
            blocks.append(sp.csr_matrix((np.ones(n), (np.arange(n), c)), shape=(n, size)))
        else:
            keep = c > 0
            blocks.append(sp.csr_matrix((np.ones(int(keep.sum())), (np.flatnonzero(keep), c[keep] - 1)),
                                        shape=(n, size - 1)))
    blocks.append(sp.csr_matrix(covariates[rows]))
    for _, code, size, values in effects.slopes:
        blocks.append(sp.csr_matrix((values[rows], (np.arange(n), code[rows])), shape=(n, size)))
    return sp.hstack(blocks, format="csr")


def check_levels(effects: FixedEffects, untreated: np.ndarray, target_rows: np.ndarray, who: str) -> None:
    """Refuse a fixed-effect level of a target (treated) row that no untreated row has: its
    effect, and so the row's untreated outcome, cannot be estimated."""
    if not untreated.size:
        raise IdentificationError(f"{who}: all observations are treated: there is nothing to impute from",
                                  reason="no_untreated")
    for name, code, size, label in zip(effects.names, effects.codes, effects.sizes, effects.labels):
        seen = np.bincount(code[untreated], minlength=size) > 0
        bad = ~seen[code[target_rows]]
        if bad.any():
            examples = list(dict.fromkeys(label[target_rows[bad]].tolist()))[:5]
            raise IdentificationError(
                f"{who}: fixed effect {name!r} has level(s) {examples} on treated observations only (e.g. units "
                "treated in every observed period, or periods in which every unit is treated), so their "
                "untreated outcome cannot be imputed; drop those rows or restrict the sample",
                reason="not_imputable")
