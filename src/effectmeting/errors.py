"""Errors raised by effectmeting.

Every error a user can trigger is an :class:`EffectmetingError` with a message that says what
is wrong (file, row, column, value where known) and what to do.  The CLI prints the message
without a traceback and exits non-zero.
"""
from __future__ import annotations


class EffectmetingError(Exception):
    """Base class of all errors a user can act on."""


class InputError(EffectmetingError):
    """A source file cannot be read or parsed (missing file, bad encoding, unknown format)."""


class SchemaValidationError(EffectmetingError):
    """A table breaks its declared schema.

    ``failures`` is a DataFrame with one row per failing cell:
    ``file, row, field, value, problem``.
    """

    def __init__(self, message: str, failures=None):
        super().__init__(message)
        self.failures = failures


class HarmonisationError(EffectmetingError):
    """Municipal codes, herindelingen or prices cannot be harmonised as asked."""


class IdentificationError(EffectmetingError):
    """An estimator was asked for something the design cannot identify."""


class OptionError(IdentificationError, ValueError):
    """An estimator option has a value it does not accept (``vcov="hc3"``, ``bootstrap=0``).

    Also a ``ValueError``, so callers that caught the ``ValueError`` raised before still do.
    """


class FormulaError(EffectmetingError):
    """A model formula cannot be parsed; the message points at the offending position."""


class AnalysisConfigError(EffectmetingError):
    """An analysis file (TOML) is malformed or names unknown designs, outcomes or options."""


class DesignError(EffectmetingError):
    """A design history cannot be turned into a treatment as asked (unknown value, gap, bad option)."""


class DesignValidationError(SchemaValidationError, DesignError):
    """A design history breaks the catalogue of design dimensions; ``failures`` has one row per
    failing row: ``row, municipality, year, dimension, value, problem``."""
