"""Few-cluster inference: wild cluster bootstrap (vs the wildboottest package) and
randomization inference (vs a brute-force enumeration written out in the test)."""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

from effectmeting.errors import IdentificationError
from effectmeting.estimate.feols import feols
from effectmeting.estimate.randomization import randomization_inference
from effectmeting.estimate.wild_bootstrap import wild_cluster_bootstrap

wildboottest = pytest.importorskip("wildboottest.wildboottest")


def clustered_data(n_clusters: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 25 * n_clusters
    cluster = rng.integers(0, n_clusters, n)
    frame = pd.DataFrame({"g": cluster, "unit": rng.integers(0, 12, n),
                          "x1": rng.normal(size=n) + rng.normal(size=n_clusters)[cluster],
                          "x2": rng.normal(size=n)})
    frame["y"] = (1 + 0.15 * frame["x1"] + 0.2 * frame["x2"] + rng.normal(size=n_clusters)[cluster]
                  + 0.3 * frame["unit"] % 4 + rng.normal(size=n))
    return frame


def peer_pvalue(x: np.ndarray, y: np.ndarray, cluster: np.ndarray, column: int, draws: int,
                weights: str) -> float:
    restriction = np.zeros(x.shape[1])
    restriction[column] = 1.0
    boot = wildboottest.WildboottestCL(X=x, Y=y, cluster=cluster, R=restriction, B=draws, seed=11)
    boot.get_scores(bootstrap_type="11", impose_null=True)
    boot.get_weights(weights_type=weights)
    boot.get_numer()
    boot.get_denom()
    boot.get_tboot()
    boot.get_vcov()
    boot.get_tstat()
    boot.get_pvalue(pval_type="two-tailed")
    return float(boot.pvalue)


def test_enumerated_rademacher_pvalue_matches_wildboottest():
    frame = clustered_data(8, seed=1)  # 2**8 = 256 <= 999: both enumerate all sign vectors
    with pytest.warns(UserWarning, match="wild_cluster_bootstrap"):
        fit = feols("y ~ x1 + x2", frame, vcov={"cluster": "g"})
    ours = wild_cluster_bootstrap(fit, "x1", B=999)
    assert ours["draws"] == 256
    x = np.column_stack([np.ones(len(frame)), frame["x1"], frame["x2"]])
    peer = peer_pvalue(x, frame["y"].to_numpy(), frame["g"].to_numpy(), 1, 999, "rademacher")
    # wildboottest counts |t*| > |t| strictly; we count ties (the identity draw and its mirror
    # image, whose |t*| equals |t|) as extreme: the two may differ by exactly 2 / 2**G
    assert ours["p_value"] - peer in (pytest.approx(0.0, abs=1e-12), pytest.approx(2 / 256, abs=1e-12))
    assert ours["statistic"] == pytest.approx(fit.tstat["x1"])


@pytest.mark.parametrize("weights", ["rademacher", "webb"])
def test_drawn_pvalue_with_fixed_effects_within_monte_carlo_error(weights):
    frame = clustered_data(14, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fit = feols("y ~ x1 + x2 | unit", frame, vcov={"cluster": "g"})
    draws = 4999
    ours = wild_cluster_bootstrap(fit, "x1", B=draws, weights=weights, seed=3)
    # the peer gets the within-transformed data (FWL), computed here with pandas
    demeaned = frame[["y", "x1", "x2"]] - frame.groupby("unit")[["y", "x1", "x2"]].transform("mean")
    x = demeaned[["x1", "x2"]].to_numpy()
    peer = peer_pvalue(x, demeaned["y"].to_numpy(), frame["g"].to_numpy(), 0, draws, weights)
    p = (ours["p_value"] + peer) / 2
    monte_carlo_sd = np.sqrt(2 * p * (1 - p) / draws)  # sd of the difference of two estimates
    assert 0.02 < p < 0.98
    assert abs(ours["p_value"] - peer) < 4 * monte_carlo_sd + 1e-3


def test_bootstrap_is_reproducible_and_needs_one_way_clustering():
    frame = clustered_data(14, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fit = feols("y ~ x1 + x2", frame, vcov={"cluster": "g"})
    first = wild_cluster_bootstrap(fit, "x2", B=299, weights="webb", seed=9)
    assert first.equals(wild_cluster_bootstrap(fit, "x2", B=299, weights="webb", seed=9))
    with pytest.raises(IdentificationError, match="one-way clustering"):
        wild_cluster_bootstrap(feols("y ~ x1 + x2", frame), "x1")
    with pytest.raises(KeyError):
        wild_cluster_bootstrap(fit, "x9")


def test_randomization_inference_is_exact_on_an_enumerable_design():
    rng = np.random.default_rng(7)
    clusters, per_cell = 6, 3
    frame = pd.DataFrame({"g": np.repeat(np.arange(clusters), 2 * per_cell),
                          "post": np.tile(np.repeat([0, 1], per_cell), clusters)})
    frame["treated"] = (frame["g"] < 3).astype(int)
    frame["y"] = rng.normal(size=len(frame)) + 0.8 * frame["treated"] * frame["post"] + frame["g"] * 0.1
    result = randomization_inference("y ~ treated + post + treated:post", frame,
                                     term="treated:post", treatment="treated", cluster="g",
                                     permutations="all")

    # brute force: the saturated 2x2 coefficient is the difference of differences of cell means
    def did(treated_clusters) -> float:
        treated = frame["g"].isin(treated_clusters)
        means = frame.groupby([treated, frame["post"]])["y"].mean()
        return (means[(True, 1)] - means[(True, 0)]) - (means[(False, 1)] - means[(False, 0)])

    observed = did([0, 1, 2])
    everything = np.array([did(c) for c in itertools.combinations(range(clusters), 3)])
    expected = np.mean(np.abs(everything) >= np.abs(observed) - 1e-12)
    assert result["permutations"] == 20 and result["exact"] == 1.0
    assert result["estimate"] == pytest.approx(observed, rel=1e-10)
    assert result["p_value"] == pytest.approx(expected, abs=1e-12)
    # fewer permutations asked than assignments exist: random reassignments, reproducible by seed
    kwargs = dict(term="treated:post", treatment="treated", cluster="g", permutations=19, seed=1)
    drawn = randomization_inference("y ~ treated + post + treated:post", frame, **kwargs)
    assert drawn["exact"] == 0.0 and drawn["permutations"] == 19
    assert drawn.equals(randomization_inference("y ~ treated + post + treated:post", frame, **kwargs))
    assert abs(drawn["p_value"] - expected) < 0.5


def test_randomization_refuses_a_treatment_that_varies_within_clusters():
    frame = pd.DataFrame({"g": [0, 0, 1, 1], "post": [0, 1, 0, 1], "treated": [0, 1, 0, 0],
                          "y": [1.0, 2.0, 0.5, 0.7]})
    with pytest.raises(IdentificationError, match="varies within 'g'"):
        randomization_inference("y ~ treated + post", frame, term="treated", treatment="treated",
                                cluster="g", permutations="all")
