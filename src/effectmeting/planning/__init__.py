"""Study planning: power and minimum detectable effects on a harmonised panel."""
from effectmeting.planning.power import PowerResults, minimum_detectable_effect

__all__ = ["PowerResults", "minimum_detectable_effect"]
