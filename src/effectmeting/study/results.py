"""The result of :func:`effectmeting.design_effect`: every estimate of one design on several outcomes."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from effectmeting.errors import InputError, OptionError
from effectmeting.estimate.core.results import Results, _format_frame, contract_table, new_figure
from effectmeting.study.spec import ESTIMATORS

if TYPE_CHECKING:
    from effectmeting.study.sensitivity import SensitivityBounds

TIDY_COLUMNS = ["design", "outcome", "estimator", "aggregation", "key", "estimate", "std_error", "conf_low",
                "conf_high", "p_value", "n_units"]
AGGREGATIONS = ("overall", "event_time", "cohort", "time", "subgroup")
ADJUSTED_COLUMNS = ["estimator", "outcome", "estimate", "std_error", "p_value", "p_holm", "p_romano_wolf"]


def _sort_key(key: pd.Series) -> pd.Series:
    """Numeric keys (event times, cohorts, years) in numeric order, other keys after them by text."""
    number = pd.to_numeric(key, errors="coerce")
    return number.fillna(np.inf)


class DesignEffectStudy(Results):
    """Effects of one design choice on several outcomes by several estimators.

    Attributes
    ----------
    design : the ``dimension=value`` studied.
    outcomes, estimators : as asked (estimators in the order of :data:`ESTIMATORS`).
    results : ``{(outcome, estimator): Results}`` — the underlying estimator results
        (``AttGtResults`` for cs, ``FeolsResults`` for twfe, event-study results otherwise).
    aggregates : ``{(outcome, "cs"): {"simple"|"dynamic"|"group"|"calendar": AggregateResults}}``
        and ``{(outcome, "twfe"): {"event_study": EventStudyResults}}``.
    diagnostics : ``{outcome: {"pretrend": DataFrame, "bacon": BaconResults | None, "bacon_note": str}}``.
    subgroups : ``{"estimates": DataFrame, "tests": DataFrame}`` (empty frames without ``by``).
    adjusted : DataFrame ``estimator, outcome, estimate, std_error, p_value, p_holm,
        p_romano_wolf`` (Romano-Wolf NaN when not computed; see ``notes``).
    timing : the :class:`~effectmeting.designs.TreatmentTiming`; ``excluded`` the municipalities
        left out of absorbing-treatment estimation with the reason.
    merged : the study's municipalities whose design history the herindelingen design rule combined
        from several predecessors (columns of :func:`effectmeting.merged_municipalities`).
    co_adoption : the studied design against every other design in the history
        (:func:`effectmeting.co_adoption`: adopters, co-adoptions within +-2 years, correlation of
        adoption years, ``flagged``); empty when the study was built without it.
    coinciding : estimators whose overall estimate equals an earlier estimator's to 1e-8
        (``outcome, estimator, same_as, estimate``; :func:`effectmeting.study.diagnostics.coinciding`):
        equal by construction, so no independent confirmation.
    notes : every exclusion and choice, in words.
    sensitivity : the Rambachan-Roth bounds (:class:`~effectmeting.study.sensitivity.SensitivityBounds`),
        or None when ``design_effect(..., sensitivity=False)`` (the default).
    """

    def __init__(self, *, design: str, outcomes: list[str], estimators: list[str], rows: pd.DataFrame,
                 results: dict, aggregates: dict, diagnostics: dict, subgroups: dict, adjusted: pd.DataFrame,
                 timing, excluded: pd.DataFrame, notes: list[str], settings: dict,
                 merged: pd.DataFrame | None = None) -> None:
        super().__init__()
        self.design, self.outcomes, self.estimators = design, list(outcomes), list(estimators)
        self.title = f"Effects of {design} ({', '.join(self.estimators)})"
        self._rows = rows
        self.results, self.aggregates, self.diagnostics = results, aggregates, diagnostics
        self.subgroups, self.adjusted = subgroups, adjusted
        self.timing, self.excluded, self.settings = timing, excluded, settings
        self.merged = merged if merged is not None else pd.DataFrame()
        self.notes = list(notes)
        self.sensitivity: SensitivityBounds | None = None  # set by design_effect(..., sensitivity=True)
        self.co_adoption = pd.DataFrame()  # set by design_effect
        self.coinciding = pd.DataFrame(columns=["outcome", "estimator", "same_as", "estimate"])  # set by design_effect

    def tidy(self, level: float | None = None) -> pd.DataFrame:
        """The results contract: ``term`` (``outcome: estimator, aggregation[::key]``), the key
        columns ``design, outcome, estimator, aggregation, key``, then ``estimate, std_error,
        statistic, p_value, conf_low, conf_high`` and ``n_units``; rows as in :meth:`estimates`.
        At another ``level`` the intervals are normal (estimate +/- z x std_error); the stored ones
        (TWFE's wild-bootstrap interval with few municipalities) hold at the study's level only."""
        table = self.estimates()
        key = table["key"].astype(str)
        terms = (table["outcome"] + ": " + table["estimator"] + ", " + table["aggregation"]
                 + key.where(key == "", "::" + key))
        return contract_table(table, terms, level=level, stored_level=self.level)

    def estimates(self) -> pd.DataFrame:
        """One row per reported effect; columns :data:`TIDY_COLUMNS` (of this module: what
        ``estimates.csv`` holds), sorted by outcome (as asked), estimator (twfe, cs, sa, imputation,
        dcdh), aggregation (overall, event_time, cohort, time, subgroup) and key (numeric keys
        numerically)."""
        table = self._rows.copy()
        table["design"] = self.design
        order = pd.DataFrame({
            "outcome": table["outcome"].map({o: i for i, o in enumerate(self.outcomes)}),
            "estimator": table["estimator"].map({e: i for i, e in enumerate(ESTIMATORS)}),
            "aggregation": table["aggregation"].map({a: i for i, a in enumerate(AGGREGATIONS)}),
            "key_number": _sort_key(table["key"]), "key_text": table["key"]})
        position = order.sort_values(list(order.columns), kind="mergesort").index
        table = table.loc[position, TIDY_COLUMNS].reset_index(drop=True)
        table["n_units"] = table["n_units"].astype("int64")
        return table

    def overall(self) -> pd.DataFrame:
        """The overall rows of :meth:`estimates` with the adjusted p-values joined."""
        table = self.estimates()
        table = table[table["aggregation"] == "overall"]
        return table.merge(self.adjusted[["estimator", "outcome", "p_holm", "p_romano_wolf"]],
                           on=["estimator", "outcome"], how="left")

    def summary(self, digits: int = 4) -> str:
        """Overall effects with adjusted p-values, subgroup tests, pre-trend tests and notes."""
        lines = [self.title, self.timing.summary() if self.timing is not None else "", "",
                 "Overall effects (p_holm / p_romano_wolf: adjusted across outcomes per estimator):",
                 _format_frame(self.overall().drop(columns=["design", "aggregation", "key"]), digits)
                 .to_string(index=False)]
        tests = self.subgroups.get("tests")
        if tests is not None and len(tests):
            lines += ["", "Subgroup equality tests:", _format_frame(tests, digits).to_string(index=False)]
        pretrends = [d["pretrend"] for d in self.diagnostics.values()]
        if pretrends:
            lines += ["", "Pre-trend tests:", _format_frame(pd.concat(pretrends, ignore_index=True)
                                                            .drop(columns=["note"]), digits).to_string(index=False)]
        lines += ["", *self.notes]
        return "\n".join(lines)

    def event_times(self, outcome: str) -> dict[str, pd.DataFrame]:
        """Per estimator, the event-time rows of ``outcome`` (``event_time`` int, estimate, CI)."""
        if outcome not in self.outcomes:
            raise OptionError(f"outcome {outcome!r} is not in this study; outcomes: {self.outcomes}")
        table = self.estimates()
        table = table[(table["outcome"] == outcome) & (table["aggregation"] == "event_time")]
        frames = {}
        for estimator in self.estimators:
            part = table[table["estimator"] == estimator]
            if len(part):
                frames[estimator] = part.assign(event_time=part["key"].astype(int))[
                    ["event_time", "estimate", "std_error", "conf_low", "conf_high"]].reset_index(drop=True)
        return frames

    # the study's plot needs an outcome, given first (``study.plot("y")``), so ``ax`` is keyword-only
    # here; making ``outcome`` optional or positional-only would change the public call
    def plot(self, outcome: str, *, unit: str = "", lang: str = "en", ax=None):  # type: ignore[override]
        """Event study of ``outcome`` comparing the estimators (English labels, quick look);
        returns the matplotlib Figure.

        For report figures (Dutch or English, house style, alt text) use
        ``effectmeting.report.study_figures.study_event_study_plot(study, outcome, ...)``: the
        study stage does not import the report stage (data flows one way).
        """
        if lang != "en":
            raise InputError(f"DesignEffectStudy.plot draws English labels only (lang={lang!r}); for a "
                                      "Dutch figure use effectmeting.report.study_figures.study_event_study_plot")
        frames = self.event_times(outcome)
        figure, ax = new_figure(ax)
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.axvline(-0.5, color="grey", linewidth=0.8, linestyle=":")
        # small horizontal offsets so the estimators' intervals at one event time do not overlap
        offsets = np.linspace(-0.25, 0.25, len(frames)) if len(frames) > 1 else np.zeros(1)
        for offset, (estimator, frame) in zip(offsets, frames.items()):
            ax.errorbar(frame["event_time"] + offset, frame["estimate"],
                        yerr=[frame["estimate"] - frame["conf_low"], frame["conf_high"] - frame["estimate"]],
                        fmt="o", capsize=2.5, markersize=4, label=estimator)
        ax.set_xlabel("Years since adoption (0 = adoption year)")
        ax.set_ylabel(f"Effect ({unit})" if unit else "Effect")
        ax.set_title(f"{self.design}: {outcome}")
        ax.legend(loc="best", frameon=False, title="95% CI")
        return figure
