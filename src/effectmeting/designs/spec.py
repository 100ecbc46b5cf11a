"""The one parser of a ``design`` argument, shared by the study, cost and planning stages.

Accepted forms (whitespace around the operator is ignored):

* ``"dimension=value"`` for a binary or categorical dimension, e.g. ``"role=gives_help"``;
* ``"dimension>=threshold"`` for a score dimension, e.g. ``"maturity>=3"`` (treated from the first
  year the score reaches the threshold);
* an already parsed :class:`DesignSpec` (returned as is), so a stage can pass one on.

Whether the dimension exists, is a score, or has that value is checked against the panel's design
history by the stage that has the panel (:func:`effectmeting.study.spec.check_request`,
:func:`effectmeting.designs.derive_treatment`); this module only reads the text.
"""
from __future__ import annotations

import dataclasses
import re

from effectmeting.errors import OptionError

_DESIGN = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|=)\s*([^\s].*?)\s*$")


@dataclasses.dataclass(frozen=True)
class DesignSpec:
    """A parsed ``design`` argument: ``treated_value`` for ``=``, ``threshold`` for ``>=``."""

    text: str
    dimension: str
    treated_value: str | None
    threshold: float | None

    def treatment_arguments(self) -> dict:
        """Keyword arguments of :func:`effectmeting.designs.derive_treatment` for this design."""
        return {"dimension": self.dimension, "treated_value": self.treated_value, "threshold": self.threshold}


def parse_design(design: str | DesignSpec) -> DesignSpec:
    """``"dimension=value"`` (binary/categorical) or ``"dimension>=threshold"`` (score dimensions).

    Raises :class:`~effectmeting.errors.OptionError` (reason ``"design_syntax"``) for any other text.
    """
    if isinstance(design, DesignSpec):
        return design
    match = _DESIGN.match(design) if isinstance(design, str) else None
    if match is None:
        raise OptionError(
            f"design={design!r}: write 'dimension=value', e.g. 'role=gives_help' (or 'maturity>=3' "
            "for a score dimension)", reason="design_syntax")
    dimension, operator, value = match.groups()
    if operator == ">=":
        try:
            threshold = float(value)
        except ValueError:
            raise OptionError(f"design={design!r}: the threshold {value!r} is not a number",
                              reason="design_syntax") from None
        return DesignSpec(design.strip(), dimension, None, threshold)
    return DesignSpec(design.strip(), dimension, value, None)
