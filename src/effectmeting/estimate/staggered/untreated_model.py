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
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from effectmeting.errors import IdentificationError, OptionError
from effectmeting.estimate.core.data import appearance_codes, refuse_missing


@dataclass
class FixedEffects:
    """The fixed effects of the untreated model: one code array (0..levels-1, one entry per row)
    and one label array per factor, named as the user wrote them."""

    names: list[str]
    codes: list[np.ndarray]
    sizes: list[int]
    labels: list[np.ndarray]

    def subset(self, rows: np.ndarray) -> FixedEffects:
        """The factors on ``rows`` (codes kept, so a design on ``rows`` has the same columns)."""
        return FixedEffects(self.names, [c[rows] for c in self.codes], self.sizes, [lab[rows] for lab in self.labels])


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


def design(effects: FixedEffects, covariates: np.ndarray, rows: np.ndarray) -> sp.csr_matrix:
    """Dummies of every factor (the first with all levels, the others without level 0) and the
    covariates, for ``rows``; the same columns whatever the rows."""
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
