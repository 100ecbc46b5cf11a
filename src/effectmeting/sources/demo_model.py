"""Demo data, part 2: the data-generating process on the 2023 units and the true effects.

Everything here is on the units (municipalities of 2023) and calendar years; arrays have shape
(units, years).  Characteristics (size, urbanity, deprivation) drive both outcome levels and the
timing of design adoption, so naive treated-vs-untreated comparisons are biased by construction.

Planted effects (only for the designs in :data:`EFFECTS`; every other design has no effect):
``effect(g, e) = base x cohort_factor(g) x shape(e)`` for event time ``e = year - g >= 0`` while
the unit has the treated value (a unit that switches back loses the effect), with
``cohort_factor(g) = 1.3 - 0.1 (g - 2016)`` (early adopters gain more) and shapes
``ramp = min(1 + e, 4) / 4``, ``late = clip(e - 1, 0, 3) / 3``, ``immediate = 1``.
Outcome effects are on rates per 1,000 youth (0-17) or per 1,000 adults (18+); cost effects on
euros per inhabitant in constant euros of 2023.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

ADOPTION_FIRST, ADOPTION_LAST = 2016, 2022
TAAKVELDEN = ("6.1", "6.2", "6.3", "6.4", "6.5", "6.6", "6.71", "6.72", "6.81", "6.82")

#: outcome -> (denominator, base rate per 1,000, deprivation slope, urban slope, unit sd, trend per year)
OUTCOMES = {
    "youth_with_jeugdhulp": ("population_0_17", 104.0, 8.0, 2.0, 10.0, 1.5),
    "youth_with_jeugdhulp_verblijf": ("population_0_17", 24.0, 3.0, 0.5, 3.0, -0.2),
    "youth_with_jeugdbescherming": ("population_0_17", 10.0, 2.0, 0.5, 1.5, -0.1),
    "youth_with_jeugdreclassering": ("population_0_17", 3.0, 0.7, 0.3, 0.5, -0.05),
    "adults_with_wmo": ("population_18_plus", 62.0, 4.0, -1.0, 6.0, 1.0),
    "bijstand_recipients": ("population_18_plus", 34.0, 7.0, 3.0, 4.0, -0.3),
}

#: taakveld -> (euros per inhabitant in 2019 at constant 2023 prices, deprivation slope (share), real growth/yr
#: of the national level, added as a common amount per inhabitant)
COSTS = {
    "6.1": (60.0, 0.05, 0.01), "6.2": (70.0, 0.08, 0.02), "6.3": (400.0, 0.20, 0.0),
    "6.4": (75.0, 0.10, 0.0), "6.5": (30.0, 0.10, 0.0), "6.6": (115.0, 0.04, 0.02),
    "6.71": (150.0, 0.06, 0.03), "6.72": (270.0, 0.08, 0.03), "6.81": (20.0, 0.15, 0.01),
    "6.82": (115.0, 0.10, 0.0),
}

#: (dimension, treated value) -> {variable: (base effect, shape)}; variable is an outcome count name
#: (effect on its rate per 1,000) or ``cost_<taakveld>`` (euros per inhabitant, constant 2023 euros).
EFFECTS = {
    ("role", "gives_help"): {
        "youth_with_jeugdhulp": (8.0, "ramp"),  # teams find hidden needs: more use at first
        "youth_with_jeugdhulp_verblijf": (-3.0, "late"),
        "youth_with_jeugdbescherming": (-1.0, "late"),
        "cost_6.2": (8.0, "immediate"),
        "cost_6.72": (12.0, "ramp"),
        "cost_6.82": (-10.0, "late"),
    },
    ("target_group", "all_ages"): {
        "adults_with_wmo": (-3.0, "ramp"),
        "cost_6.6": (-6.0, "ramp"),
        "cost_6.71": (-5.0, "late"),
    },
}
# The two designs act on disjoint outcomes on purpose: their adoption years are correlated (both
# driven by size, urbanity and deprivation), so an outcome moved by one design shows a spurious
# "effect" of the other in a one-design-at-a-time analysis.  With disjoint outcomes the truth of
# every (design, outcome) pair with a planted effect is recoverable by such an analysis, and the
# zero-truth cross pairs show what correlated timing does.

#: Designs for which truth.json reports ATTs (the first year with the treated value is the cohort).
TREATMENTS = (("role", "gives_help"), ("target_group", "all_ages"), ("expertise", "generalists_with_specialists"),
              ("integrated_budget", "yes"))

#: Demo consumer-price-like index, yearly change in % (2022 ~10 %).  Not CBS data.
PRICE_CHANGE = {2016: 0.3, 2017: 1.4, 2018: 1.7, 2019: 2.6, 2020: 1.3, 2021: 2.7, 2022: 10.0, 2023: 3.8, 2024: 3.3}


def price_index(years: np.ndarray) -> pd.Series:
    """Demo price index by year, 2015 = 100 (2 %/year outside :data:`PRICE_CHANGE`)."""
    span = np.arange(2015, max(int(years.max()), 2023) + 1)
    growth = np.array([1.0] + [1 + PRICE_CHANGE.get(int(y), 2.0) / 100 for y in span[1:]])
    return pd.Series(np.round(100 * np.cumprod(growth), 2), index=span)


def _z(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / x.std()


def characteristics(codes: pd.Series, rng: np.random.Generator) -> pd.DataFrame:
    """Per unit: population in 2015, growth, youth share, urbanity (1 very urban .. 5), deprivation z-score."""
    n = len(codes)
    draws = np.sort(rng.lognormal(np.log(27_000), 0.8, n))[::-1]
    # the four largest become city-sized (Amsterdam-like maximum); an island-sized minimum
    draws[:4] = [880_000, 655_000, 550_000, 360_000]
    draws = np.clip(draws, 950, None)
    order = rng.permutation(n)
    big = ["GM0363", "GM0599", "GM0518", "GM0344"]  # Amsterdam, Rotterdam, Den Haag, Utrecht
    code_list = codes.tolist()
    positions = np.array([code_list.index(c) for c in big if c in code_list], dtype=int)
    rest = order[~np.isin(order, positions)]
    population = np.empty(n)
    population[np.r_[positions, rest]] = draws
    log_size = _z(np.log(population))
    urban_score = log_size + rng.normal(0, 0.6, n)
    cuts = np.quantile(urban_score, [0.30, 0.60, 0.80, 0.95])
    urbanity = 5 - np.searchsorted(cuts, urban_score)  # 1 = very strongly urban
    urban = _z(-urbanity.astype(float))
    deprivation = _z(0.4 * log_size + 0.3 * urban + rng.normal(0, 0.9, n))
    return pd.DataFrame({
        "unit": codes.to_numpy(), "population_2015": population, "growth": rng.normal(0.004, 0.004, n),
        "youth_share": np.clip(0.205 - 0.012 * urban + rng.normal(0, 0.012, n), 0.14, 0.27),
        "urbanity": urbanity, "urban_z": urban, "deprivation": deprivation, "log_size_z": log_size,
        "single_parent": np.clip(0.065 + 0.012 * deprivation + rng.normal(0, 0.006, n), 0.02, 0.15),
    })


def _staggered(score: np.ndarray, never_share: float) -> np.ndarray:
    """Adoption year per unit (0 = never): the highest scores adopt first, 2016-2022."""
    n = len(score)
    rank = np.argsort(np.argsort(-score))  # 0 = highest score
    n_adopt = int(round(n * (1 - never_share)))
    cohort = np.zeros(n, dtype=int)
    adopters = rank < n_adopt
    n_cohorts = ADOPTION_LAST - ADOPTION_FIRST + 1
    cohort[adopters] = ADOPTION_FIRST + (rank[adopters] * n_cohorts) // n_adopt
    return cohort


def designs(units: pd.DataFrame, years: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Design value arrays (units x years, strings) per dimension, plus ``_first_<dimension>`` cohorts."""
    n, year_grid = len(units), years[None, :]
    propensity = 0.7 * units["log_size_z"] + 0.5 * units["urban_z"] + 0.6 * units["deprivation"]
    out: dict[str, np.ndarray] = {}

    role_cohort = _staggered(propensity.to_numpy() + rng.normal(0, 0.6, n), 0.25)
    role_on = (role_cohort[:, None] > 0) & (year_grid >= role_cohort[:, None])
    switchers = rng.choice(np.flatnonzero((role_cohort > 0) & (role_cohort <= 2020)), 8, replace=False)
    back = np.zeros(n, dtype=int)
    back[switchers] = role_cohort[switchers] + rng.integers(2, 4, len(switchers))
    role_on &= ~((back[:, None] > 0) & (year_grid >= back[:, None]))
    out["role"] = np.where(role_on, "gives_help", "triage_only")

    tg_cohort = _staggered(propensity.to_numpy() + rng.normal(0, 1.0, n), 0.30)
    tg_on = (tg_cohort[:, None] > 0) & (year_grid >= tg_cohort[:, None])
    before = np.where(rng.random(n) < 0.6, "youth", "adults")
    out["target_group"] = np.where(tg_on, "all_ages", before[:, None])

    organisation = np.array(["in_house", "foundation", "contracted"])
    start = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    change_year = np.where(rng.random(n) < 0.25, rng.integers(2017, 2023, n), 0)
    later = (start + rng.integers(1, 3, n)) % 3
    out["organisation"] = organisation[np.where((change_year[:, None] > 0) & (year_grid >= change_year[:, None]),
                                                later[:, None], start[:, None])]

    expertise_year = np.where(rng.random(n) < 0.5, rng.integers(2016, 2024, n), 0)
    out["expertise"] = np.where((expertise_year[:, None] > 0) & (year_grid >= expertise_year[:, None]),
                                "generalists_with_specialists", "generalists")
    budget_year = np.where(rng.random(n) < 0.4, rng.integers(2017, 2023, n), 0)
    out["integrated_budget"] = np.where((budget_year[:, None] > 0) & (year_grid >= budget_year[:, None]), "yes", "no")
    maturity = np.clip(1.0 + rng.normal(0, 0.5, n)[:, None] + 0.3 * (year_grid - 2015)
                       + 0.5 * role_on, 0, 5)
    out["maturity"] = np.char.mod("%.1f", np.round(maturity, 1))
    return out


def first_adoption(values: np.ndarray, treated: str, years: np.ndarray) -> np.ndarray:
    """First year with the treated value per unit (0 = never within the window)."""
    on = values == treated
    return np.where(on.any(axis=1), years[np.argmax(on, axis=1)], 0)


def planted_effects(design_values: dict[str, np.ndarray], years: np.ndarray) -> dict[tuple, dict[str, np.ndarray]]:
    """Effect arrays (units x years) per treatment and variable; zero before adoption and when switched off."""
    effects: dict[tuple, dict[str, np.ndarray]] = {}
    for (dimension, treated), lines in EFFECTS.items():
        values = design_values[dimension]
        cohort = first_adoption(values, treated, years)
        event = years[None, :] - cohort[:, None]
        active = (cohort[:, None] > 0) & (event >= 0) & (values == treated)
        factor = np.where(cohort > 0, 1.3 - 0.1 * (cohort - ADOPTION_FIRST), 0.0)[:, None]
        shapes = {"ramp": np.minimum(1 + event, 4) / 4, "late": np.clip(event - 1, 0, 3) / 3,
                  "immediate": np.ones_like(event, dtype=float)}
        effects[(dimension, treated)] = {
            variable: np.where(active, base * factor * shapes[shape], 0.0) for variable, (base, shape) in lines.items()}
    return effects


def simulate(units: pd.DataFrame, years: np.ndarray, rng: np.random.Generator) -> dict:
    """Unit-level panel: population, outcome counts, nominal euros per taakveld, designs, effects."""
    n, t = len(units), years - 2015
    design_values = designs(units, years, rng)
    effects = planted_effects(design_values, years)
    population = np.rint(units["population_2015"].to_numpy()[:, None]
                         * (1 + units["growth"].to_numpy()[:, None]) ** t[None, :])
    youth_share = units["youth_share"].to_numpy()[:, None] - 0.0015 * t[None, :]
    youth = np.rint(population * youth_share)
    counts = {"population_total": population, "population_0_17": youth, "population_18_plus": population - youth}
    dep, urban = units["deprivation"].to_numpy()[:, None], units["urban_z"].to_numpy()[:, None]

    def total_effect(variable: str) -> np.ndarray:
        return sum((lines[variable] for lines in effects.values() if variable in lines), np.zeros((n, len(years))))

    for name, (denominator, base, dep_slope, urban_slope, unit_sd, trend) in OUTCOMES.items():
        level = base + dep_slope * dep + urban_slope * urban + rng.normal(0, unit_sd, (n, 1))
        rate = np.clip(level + trend * t[None, :] + rng.normal(0, unit_sd / 5, (n, len(years)))
                       + total_effect(name), 0.2, 600.0)
        counts[name] = rng.binomial(counts[denominator].astype(np.int64), rate / 1000.0).astype(float)
    prices = price_index(years)
    to_nominal = (prices.reindex(years) / prices[2023]).to_numpy()[None, :]
    euros = {}
    for taakveld, (level, dep_share, trend) in COSTS.items():
        # the real trend is a common amount per inhabitant (parallel trends hold in levels; a
        # trend proportional to each unit's own level would break them through unobservables)
        unit_level = level * (1 + dep_share * dep) * np.exp(rng.normal(0, 0.12, (n, 1)))
        common_trend = level * ((1 + trend) ** (years - 2019)[None, :] - 1)
        per_inhabitant = (unit_level + common_trend) * np.exp(rng.normal(0, 0.03, (n, len(years))))
        per_inhabitant = np.clip(per_inhabitant + total_effect(f"cost_{taakveld}"), 0.0, None)
        euros[taakveld] = np.rint(per_inhabitant * population * to_nominal)
    return {"counts": counts, "euros": euros, "designs": design_values, "effects": effects, "prices": prices}


def truth(design_values: dict[str, np.ndarray], effects: dict, years: np.ndarray) -> dict:
    """True ATTs per treatment and variable: overall, by event time (-5..8) and by cohort.

    Overall is the mean effect over adopters' unit-years with ``year >= first adoption`` inside the
    window (what Callaway-Sant'Anna's "simple" aggregation targets, taking first adoption as
    absorbing: a unit that switched back still counts, with its actual, zero, effect).  This is
    the estimand of ``design_effect(..., switchers="first_adoption")``.  Each variable also has
    ``excluding_switchers``: the same ATTs over adopters that never switched back, the estimand of
    the default ``switchers="exclude"``.
    """
    result = {}
    variables = list(OUTCOMES) + [f"cost_{tv}" for tv in TAAKVELDEN]
    for dimension, treated in TREATMENTS:
        cohort = first_adoption(design_values[dimension], treated, years)
        # a unit treated in the first observed year has no pre-period: CS drops it, so does the truth
        adopter = (cohort > 0) & (cohort > years.min())
        event = years[None, :] - cohort[:, None]
        switched_back = adopter & ((design_values[dimension] != treated) & (event >= 0)).any(axis=1)
        lines = effects.get((dimension, treated), {})
        entry: dict[str, Any] = {"cohort_sizes": {str(g): int((cohort[adopter] == g).sum()) for g in np.unique(cohort[adopter])},
                 "never_treated": int((cohort == 0).sum()), "switched_back": int(switched_back.sum()),
                 "outcomes": {}}
        for variable in variables:
            effect = lines.get(variable, np.zeros(event.shape))
            summary = _att_summary(effect, adopter, cohort, event)
            summary["excluding_switchers"] = _att_summary(effect, adopter & ~switched_back, cohort, event)
            entry["outcomes"][_rate_name(variable)] = {"unit": _unit(variable), **summary}
        result[f"{dimension}={treated}"] = entry
    return result


def _att_summary(effect: np.ndarray, adopter: np.ndarray, cohort: np.ndarray, event: np.ndarray) -> dict:
    """Mean effect over the adopters' post-adoption unit-years: overall, by event time and cohort."""
    post = adopter[:, None] & (event >= 0)
    by_event = {str(e): round(float(effect[adopter[:, None] & (event == e)].mean()), 6)
                for e in range(-5, 9) if (adopter[:, None] & (event == e)).any()}
    by_cohort = {str(g): round(float(effect[(cohort == g)[:, None] & post].mean()), 6)
                 for g in np.unique(cohort[adopter])}
    return {"att": round(float(effect[post].mean()), 6) if post.any() else None,
            "by_event_time": by_event, "by_cohort": by_cohort}


def _rate_name(variable: str) -> str:
    """Name of the panel column the truth refers to (as made by ``harmonise.pipeline``)."""
    if variable.startswith("cost_"):
        return f"{variable.replace('.', '_')}_per_inhabitant"
    short = variable.replace("youth_with_", "").replace("adults_with_", "").replace("_recipients", "")
    denominator = OUTCOMES[variable][0]
    return f"{short}_per_1000_{'youth' if denominator == 'population_0_17' else 'adults'}"


def _unit(variable: str) -> str:
    if variable.startswith("cost_"):
        return "euros per inhabitant (constant euros of 2023)"
    return "per 1,000 residents aged 0-17" if OUTCOMES[variable][0] == "population_0_17" else \
        "per 1,000 residents aged 18+"
