"""Errors and warnings of effectmeting.

Every error a user can trigger is an :class:`EffectmetingError` with a message that says what
is wrong (file, row, column, value where known) and what to do, and a machine-readable
``reason``: a short code (``"no_never_treated"``, ``"collinear"``, ``"option"``, ...) that
programs -- the study stage, the report's translations -- act on instead of parsing the English
message.  The raiser sets it (``raise IdentificationError("...", reason="no_pre_period")``);
otherwise it is the class's :attr:`~EffectmetingError.default_reason`.  The CLI prints the
message without a traceback and exits non-zero.

Every warning is an :class:`EffectmetingWarning` (a ``UserWarning``) of a specific class, so a
caller filters by class, never by message text::

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", effectmeting.FewClustersWarning)
        fit = effectmeting.feols("y ~ x | unit + year", data, vcov={"cluster": "region"})
"""
from __future__ import annotations

from typing import Any


class EffectmetingError(Exception):
    """Base class of all errors a user can act on; ``reason`` is a short machine-readable code."""

    #: the ``reason`` of an error raised without one
    default_reason = "error"

    def __init__(self, *args: Any, reason: str | None = None) -> None:
        super().__init__(*args)
        self.reason: str = reason or self.default_reason


class InputError(EffectmetingError):
    """A source file cannot be read or parsed (missing file, bad encoding, unknown format)."""

    default_reason = "input"


class SchemaValidationError(EffectmetingError):
    """A table breaks its declared schema.

    ``failures`` is a DataFrame with one row per failing cell:
    ``file, row, field, value, problem``.
    """

    default_reason = "schema"

    def __init__(self, message: str, failures=None, *, reason: str | None = None):
        super().__init__(message, reason=reason)
        self.failures = failures


class HarmonisationError(EffectmetingError):
    """Municipal codes, herindelingen or prices cannot be harmonised as asked."""

    default_reason = "harmonisation"


class IdentificationError(EffectmetingError):
    """An estimator was asked for something the design cannot identify (no comparison group,
    collinear regressors, no pre-period, ...).  A bad option value is an :class:`OptionError`."""

    default_reason = "not_identified"


class OptionError(EffectmetingError, ValueError):
    """An option has a value the function does not accept (``vcov="hc3"``, ``n_draws=0``,
    ``level=95``, an unknown estimator or control group).

    Also a ``ValueError``, so callers that caught the ``ValueError`` raised before still do; not
    an :class:`IdentificationError`: the design is fine, the request is not.
    """

    default_reason = "option"


class FormulaError(EffectmetingError):
    """A model formula cannot be parsed; the message points at the offending position."""

    default_reason = "formula"


class AnalysisConfigError(EffectmetingError):
    """An analysis file (TOML) is malformed or names unknown designs, outcomes or options."""

    default_reason = "analysis_config"


class DesignError(EffectmetingError):
    """A design history cannot be turned into a treatment as asked (unknown value, gap, bad option)."""

    default_reason = "design"


class DesignValidationError(SchemaValidationError, DesignError):
    """A design history breaks the catalogue of design dimensions; ``failures`` has one row per
    failing row: ``row, municipality, year, dimension, value, problem``."""

    default_reason = "design_validation"


class EffectmetingWarning(UserWarning):
    """Base class of every warning effectmeting issues (a ``UserWarning``)."""


class FewClustersWarning(EffectmetingWarning):
    """Fewer clusters than cluster-robust inference needs (about 50): t-tests over-reject; use the
    wild cluster bootstrap for the p-value."""


class DroppedCohortWarning(EffectmetingWarning):
    """Units already treated in the first period were left out: they have no pre-treatment period."""


class UnidentifiedCellWarning(EffectmetingWarning):
    """Some (cohort, period) cells have no comparison units; their effects are left out."""


class CollinearityWarning(EffectmetingWarning):
    """Regressors collinear with the fixed effects or each other were dropped (fixest's rule, in
    formula order); the dropped names are in the result's notes."""


#: every warning class, for documentation and tests
WARNINGS = (EffectmetingWarning, FewClustersWarning, DroppedCohortWarning, UnidentifiedCellWarning,
            CollinearityWarning)


class RenamedArgumentWarning(EffectmetingWarning, DeprecationWarning):
    """A deprecated argument name was used (``bootstrap=``, ``B=``, ``reps=``, ...); it still works
    for one release.  A ``DeprecationWarning`` too, so ``-W error::DeprecationWarning`` catches it."""
