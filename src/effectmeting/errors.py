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


#: An echoed value longer than this is cut (a 50 MB cell must not become a 50 MB message).
ECHO_LIMIT = 80


def echo(value: Any, limit: int = ECHO_LIMIT) -> str:
    """``repr(value)`` for an error message, cut to ``limit`` characters of the value.

    Every message that quotes a user's value goes through here: ``'abc'``, ``inf``, ``2015``; a long
    text becomes its first ``limit`` characters and ``… (N characters)``.
    """
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()  # numpy scalar: 2015, not np.int64(2015)
        except (TypeError, ValueError):
            pass
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}… ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= limit + 2 else f"{text[:limit]}… ({len(text)} characters)"


def not_a_file(path: Any, missing: str = "not found") -> str:
    """Why ``path`` cannot be read as a file: a directory, a device/pipe/socket, or ``missing``.

    ``Path.is_file()`` is false for all three, so a bare "not found" would send a user who passed
    ``/dev/zero`` or a named pipe looking for a file that exists.
    """
    from pathlib import Path

    path = Path(path)
    if path.is_dir():
        return "is a directory, not a file"
    if path.exists():
        return "is not a regular file (a device, pipe or socket); give the path of an ordinary file"
    return missing


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


class SeparationWarning(EffectmetingWarning):
    """Poisson fixed effects: observations in fixed-effect groups whose outcome is zero throughout were
    dropped (their group's effect would be minus infinity; fixest and ppmlhdfe drop them too).  The
    count is the result's ``n_separated``."""


class ConvergenceWarning(EffectmetingWarning):
    """An iterative estimator (fepois's IRLS) stopped at its iteration limit before its convergence
    criterion was met; the estimates may be inaccurate.  Raise ``max_iter`` or inspect the data."""


class ImplausibleValueWarning(EffectmetingWarning):
    """A source kept values its schema declares implausible (a count above its population) because
    its manifest entry sets ``plausibility = "warn"``; every such row is noted in the audit log."""


#: every warning class, for documentation and tests
WARNINGS = (EffectmetingWarning, FewClustersWarning, DroppedCohortWarning, UnidentifiedCellWarning,
            CollinearityWarning, SeparationWarning, ConvergenceWarning, ImplausibleValueWarning)


class RenamedArgumentWarning(EffectmetingWarning, DeprecationWarning):
    """A deprecated argument name was used (``bootstrap=``, ``B=``, ``reps=``, ...); it still works
    for one release.  A ``DeprecationWarning`` too, so ``-W error::DeprecationWarning`` catches it."""
