"""The results contract shared by every estimator (in the spirit of broom, R ``did`` and linearmodels).

Every estimator returns a subclass of :class:`Results`, and every result answers the same calls:

* ``tidy(level=None)``: one row per reported quantity with the columns :data:`TIDY_COLUMNS`
  (``term, estimate, std_error, statistic, p_value, conf_low, conf_high``); key columns such as
  ``cohort``, ``time`` or ``event_time`` sit between ``term`` and ``estimate``, columns peculiar
  to one estimator (``weight``, ``lower``...) after ``conf_high``.  ``level`` defaults to the
  level the result was estimated at (``result.level``, 0.95 unless asked otherwise);
* ``tidy_overall(level=None)``: the same columns for the one overall effect of results that
  carry one (aggregations, event studies), term :data:`OVERALL`; an empty frame otherwise;
* ``conf_int(level=0.95)``: the interval columns at any level (``conf_low``, ``conf_high``,
  indexed by ``term``);
* ``glance()``: one row of model facts (estimator, ``nobs``, ``n_clusters``, control group,
  level and the options that were used);
* ``summary()``, ``to_markdown()``, ``to_latex()``, ``to_html()`` derived from ``tidy()``;
* ``plot()``: a :class:`matplotlib.figure.Figure` made without pyplot, so the caller's backend
  and open figures are left alone.

A subclass provides its estimates, standard errors and key columns (``_coefficients()``) and,
when it has them, its degrees of freedom (``df``: Student-t inference instead of normal).  The
statistic, p-value and interval are computed here, once.  Results whose intervals are not
``estimate +/- critical value x std_error`` (simultaneous bootstrap bands, test inversion,
Rambachan-Roth sets) override ``_critical_value`` or ``_interval`` only.
"""
from __future__ import annotations

import html
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
# scipy.special, not scipy.stats (~0.8 s to import): the same functions scipy.stats' norm, t and chi2
# call, so the numbers agree to the last bit on the arguments used here (checked in the tests)
from scipy.special import chdtrc, ndtr, ndtri, stdtr, stdtrit

from effectmeting.errors import OptionError

#: the columns every ``tidy()`` has, in this order (key columns go between term and estimate)
TIDY_COLUMNS = ["term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]
#: the term of a result's one overall effect (``tidy_overall``) and of single-effect results
OVERALL = "ATT (overall)"
TIDY_NUMERIC_FORMAT = "{:.4f}"


def check_level(level: Any, who: str = "level") -> float:
    """``level`` as a float in (0, 1), or an :class:`OptionError` naming the value."""
    if isinstance(level, bool) or not isinstance(level, Real) or not 0 < float(level) < 1:
        raise OptionError(f"{who}: level={level!r} must lie strictly between 0 and 1, e.g. 0.95 "
                          "for a 95% confidence interval")
    return float(level)


def critical_value(level: float, df: float | None = None) -> float:
    """Two-sided critical value at ``level``: standard normal, or Student-t with ``df`` degrees of freedom."""
    level = check_level(level)
    quantile = 0.5 + level / 2
    # quantile lies in (0.5, 1), where ndtri/stdtrit are what norm.ppf/t.ppf evaluate
    return float(ndtri(quantile) if df is None else stdtrit(df, quantile))


def p_values(statistic: Any, df: float | None = None) -> np.ndarray:
    """Two-sided p-values of ``statistic`` (normal, or Student-t with ``df``)."""
    magnitude = np.abs(np.asarray(statistic, dtype=float))
    # = norm.sf / t.sf (which evaluate ndtr(-x) / stdtr(df, -x)); t.sf is NaN for df <= 0, so is stdtr
    return 2 * (ndtr(-magnitude) if df is None else stdtr(df, -magnitude))


def chi2_sf(statistic: Any, df: float) -> Any:
    """Upper tail ``P(chi2_df > statistic)``, equal to ``scipy.stats.chi2.sf(statistic, df)``.

    scipy.stats returns 1 for a statistic <= 0 (the support's lower end), 0 for +inf and NaN for
    ``df <= 0``; ``chdtrc`` alone returns NaN, NaN (at ``df = inf``) and 0 there, so the ends are set here.
    """
    statistic = np.asarray(statistic, dtype=float)
    degrees = np.asarray(df, dtype=float)
    tail = chdtrc(degrees, np.maximum(statistic, 0.0))  # NaN statistics stay NaN
    tail = np.where(degrees > 0, np.where(np.isposinf(statistic), 0.0, tail), np.nan)
    return tail[()] if tail.ndim == 0 else tail


def confidence_interval(estimate: Any, std_error: Any, level: float = 0.95, df: float | None = None):
    """Two-sided ``estimate -/+ critical_value(level, df) * std_error`` (arrays or scalars)."""
    crit = critical_value(level, df)
    estimate = np.asarray(estimate, dtype=float)
    std_error = np.asarray(std_error, dtype=float)
    return estimate - crit * std_error, estimate + crit * std_error


def key_terms(table: pd.DataFrame, keys: list[str]) -> list[str]:
    """Row names from key columns, written ``key::value`` as fixest's ``i()`` names dummies (so
    ``event_time::0`` of an event study lines up with the ``i(event_time, ref=-1)`` term of a
    feols model in :func:`etable`); :data:`OVERALL` when there are no keys."""
    if not keys:
        return [OVERALL] * len(table)
    return [", ".join(f"{key}::{_label(value)}" for key, value in zip(keys, row))
            for row in table[keys].itertuples(index=False)]


def _label(value: object) -> str:
    if isinstance(value, (float, np.floating)) and np.isnan(value):
        return "-"  # e.g. the never-treated control of a Bacon comparison
    if isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _format_frame(frame: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}f}")
    return out.astype(str)


def _fact(value: Any) -> Any:
    """An option value as one cell of ``glance()`` (lists and tuples joined, None kept)."""
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) if len(value) else None
    return value


def contract_table(table: pd.DataFrame, terms: pd.Series | list[str], *, level: float | None,
                   stored_level: float, interval=None, df: float | None = None) -> pd.DataFrame:
    """A stage's own estimates table (key columns, ``estimate``, ``std_error``, ``conf_low``,
    ``conf_high`` and extras) in the shape of the contract: ``term`` first, the key columns, then
    :data:`TIDY_COLUMNS` (``statistic`` and ``p_value`` computed when the table has none), extras
    last.  At ``level`` None or equal to ``stored_level`` the stored intervals are kept; at another
    level ``interval(table, level)`` gives them (default: estimate +/- critical value x std_error).

    For results that keep a table of their own for files and the report (the design-effect study,
    cost effects, cost per outcome): their ``tidy()`` answers like every other result's.
    """
    table = table.reset_index(drop=True).copy()
    table.insert(0, "term", list(terms))
    if level is not None and check_level(level) != stored_level:
        low, high = (interval or _normal_interval(df))(table, check_level(level))
        table["conf_low"], table["conf_high"] = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    _add_statistics(table, df)
    keys = [c for c in table.columns[1:list(table.columns).index("estimate")]]
    rest = [c for c in table.columns if c not in keys and c not in TIDY_COLUMNS]
    return table[["term", *keys, *TIDY_COLUMNS[1:], *rest]]


def _add_statistics(table: pd.DataFrame, df: float | None) -> None:
    """Add ``statistic`` (estimate / std_error) and its two-sided ``p_value`` (normal, or Student-t
    with ``df``) to ``table`` in place, unless the table carries its own (tests)."""
    if "statistic" not in table.columns:
        estimate = table["estimate"].to_numpy(dtype=float)
        std_error = table["std_error"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            table["statistic"] = estimate / std_error
    if "p_value" not in table.columns:
        table["p_value"] = p_values(table["statistic"], df)


def _normal_interval(df: float | None):
    def interval(table: pd.DataFrame, level: float):
        return confidence_interval(table["estimate"], table["std_error"], level, df)
    return interval


def new_figure(ax=None, figsize: tuple[float, float] = (7, 4)):
    """``(figure, axes)``: ``ax``'s figure, or a new bare Figure (no pyplot state) with one Axes."""
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize)
    return figure, figure.add_subplot()


class Results:
    """Base class of every result; see the module docstring for the contract."""

    title: str = "Estimates"
    #: name of the estimator, shown by ``glance()``
    estimator: str = ""
    #: number of observations (rows) used
    nobs: int | None = None
    #: number of clusters of the standard errors (None: not clustered or not applicable); feols
    #: keeps one count per cluster variable (a tuple, joined by ``glance()``)
    n_clusters: int | tuple[int, ...] | None = None
    #: comparison units ("never-treated", "not-yet-treated", ...) where the estimator has them
    control_group: str | None = None
    #: confidence level of ``tidy()``'s intervals unless another is asked
    level: float = 0.95
    #: Student-t degrees of freedom of statistic, p-value and interval; None = normal
    df: float | None = None
    #: free-form lines printed under the table by ``summary()`` (inference, notes)
    notes: list[str]

    def __init__(self) -> None:
        self.notes = []
        #: the settings the estimate was made with (``glance()`` shows them)
        self.options: dict[str, Any] = {}

    # -- what a subclass provides -----------------------------------------------------------
    def _coefficients(self) -> pd.DataFrame:  # pragma: no cover - abstract
        """``term``, key columns, ``estimate``, ``std_error``, then any extra columns.  May carry
        ``statistic``/``p_value`` of its own (tests); the interval always comes from ``_interval``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement tidy()")

    def _overall(self) -> tuple[float, float] | None:
        """``(estimate, std_error)`` of the one overall effect, for results that have one."""
        return None

    def _critical_value(self, level: float) -> float | np.ndarray:
        """Critical value of the rows' intervals (override for simultaneous bands)."""
        return critical_value(level, self.df)

    def _interval(self, table: pd.DataFrame, level: float) -> tuple[np.ndarray, np.ndarray]:
        """``(conf_low, conf_high)`` of the rows of ``table`` (from ``_coefficients``)."""
        estimate = table["estimate"].to_numpy(dtype=float)
        std_error = table["std_error"].to_numpy(dtype=float)
        crit = self._critical_value(level)
        return estimate - crit * std_error, estimate + crit * std_error

    # -- the contract -------------------------------------------------------------------------
    def tidy(self, level: float | None = None) -> pd.DataFrame:
        """One row per reported quantity: :data:`TIDY_COLUMNS` plus key and extra columns."""
        level = self.level if level is None else check_level(level, f"{type(self).__name__}.tidy")
        return self._complete(self._coefficients(), self._interval, level)

    def tidy_overall(self, level: float | None = None) -> pd.DataFrame:
        """The overall effect as one row of :data:`TIDY_COLUMNS` (term :data:`OVERALL`), with a
        pointwise interval; no rows for results without one overall effect."""
        level = self.level if level is None else check_level(level, f"{type(self).__name__}.tidy_overall")
        overall = self._overall()
        if overall is None:
            return pd.DataFrame(columns=TIDY_COLUMNS)
        table = pd.DataFrame({"term": [OVERALL], "estimate": [float(overall[0])],
                              "std_error": [float(overall[1])]})

        def pointwise(rows: pd.DataFrame, level: float):
            return confidence_interval(rows["estimate"], rows["std_error"], level, self.df)
        return self._complete(table, pointwise, level)

    def _complete(self, table: pd.DataFrame, interval, level: float) -> pd.DataFrame:
        """``table`` with statistic, p-value and interval inserted after ``std_error``."""
        table = table.reset_index(drop=True)
        _add_statistics(table, self.df)
        low, high = interval(table, level)
        table["conf_low"], table["conf_high"] = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
        first = list(table.columns[:list(table.columns).index("estimate")])
        contract = TIDY_COLUMNS[1:]
        rest = [c for c in table.columns if c not in first and c not in contract]
        return table[first + contract + rest]

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """``conf_low``, ``conf_high`` at ``level`` (0 < level < 1), indexed by ``term``."""
        table = self.tidy(check_level(level, f"{type(self).__name__}.conf_int"))
        return table.set_index("term")[["conf_low", "conf_high"]]

    def glance(self) -> pd.DataFrame:
        """One row of model facts: estimator, nobs, n_clusters, control group, level, options."""
        facts = {"estimator": self.estimator or type(self).__name__, "nobs": self.nobs,
                 "n_clusters": _fact(self.n_clusters), "control_group": self.control_group, "level": self.level}
        facts.update({key: _fact(value) for key, value in getattr(self, "options", {}).items()
                      if key not in facts})
        return pd.DataFrame([facts])

    def plot(self, ax=None):
        """Estimates with their intervals, one line per term, and a zero line.  Returns the Figure."""
        table = self.tidy()
        figure, ax = new_figure(ax, figsize=(7, max(2.5, 0.35 * len(table) + 1)))
        positions = np.arange(len(table))[::-1]
        ax.errorbar(table["estimate"], positions, fmt="o", color="C0", capsize=3,
                    xerr=[table["estimate"] - table["conf_low"], table["conf_high"] - table["estimate"]])
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_yticks(positions, [str(t) for t in table["term"]])
        ax.set_xlabel(f"estimate, {self.level:.0%} CI")
        ax.set_title(self.title)
        return figure

    # -- text and document exports, all derived from tidy() -------------------------------
    def summary(self, digits: int = 4) -> str:
        """A plain-text table of ``tidy()`` with the title, nobs and notes."""
        table = _format_frame(self.tidy(), digits)
        lines = [self.title]
        if self.nobs is not None:
            lines.append(f"Observations: {self.nobs:,}")
        lines.append(table.to_string(index=False))
        lines.extend(self.notes)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.title}>"

    def to_markdown(self, digits: int = 4) -> str:
        table = _format_frame(self.tidy(), digits)
        header = "| " + " | ".join(table.columns) + " |"
        rule = "|" + "|".join("---" for _ in table.columns) + "|"
        rows = ["| " + " | ".join(row) + " |" for row in table.itertuples(index=False)]
        return "\n".join([header, rule, *rows]) + "\n"

    def to_latex(self, digits: int = 4) -> str:
        table = _format_frame(self.tidy(), digits)

        def esc(text: str) -> str:
            for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"),
                         ("#", r"\#"), ("$", r"\$"), ("{", r"\{"), ("}", r"\}")):
                text = text.replace(a, b)
            return text

        spec = "l" * len(table.columns)
        lines = [r"\begin{tabular}{" + spec + "}", r"\hline",
                 " & ".join(esc(c) for c in table.columns) + r" \\", r"\hline"]
        lines += [" & ".join(esc(v) for v in row) + r" \\" for row in table.itertuples(index=False)]
        lines += [r"\hline", r"\end{tabular}"]
        return "\n".join(lines) + "\n"

    def to_html(self, digits: int = 4) -> str:
        table = _format_frame(self.tidy(), digits)
        head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>"
            for row in table.itertuples(index=False)
        )
        caption = f"<caption>{html.escape(self.title)}</caption>"
        return f'<table class="effectmeting">{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>\n'
