"""Societal cost: cost lines (Iv3 taakvelden, domains, other payers), cost effects, cost per outcome."""
from effectmeting.costs.effects import CostEffectResults, cost_effect
from effectmeting.costs.lines import DOMAINS, add_cost_line, cost_lines
from effectmeting.costs.per_outcome import CostPerOutcomeResults, cost_per_outcome

__all__ = ["CostEffectResults", "CostPerOutcomeResults", "DOMAINS", "add_cost_line", "cost_effect", "cost_lines",
           "cost_per_outcome"]
