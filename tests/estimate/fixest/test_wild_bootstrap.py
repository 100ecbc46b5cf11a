"""Few-cluster inference: wild cluster bootstrap p-values under any null and confidence
intervals by test inversion (vs the wildboottest package and a per-draw loop written out here),
and randomization inference (vs a brute-force enumeration written out in the test)."""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

from effectmeting.errors import FewClustersWarning, IdentificationError, OptionError
from effectmeting.estimate.fixest.feols import feols
from effectmeting.estimate.fixest.randomization import randomization_inference
from effectmeting.estimate.fixest.wild_bootstrap import wcr_pvalue_curve, wild_cluster_bootstrap

wildboottest = pytest.importorskip("wildboottest.wildboottest")
numba = pytest.importorskip("numba")  # wildboottest's dependency


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


def peer_bootstrap(x: np.ndarray, y: np.ndarray, cluster: np.ndarray, column: int, draws: int,
                   weights: str, null: float = 0.0):
    """wildboottest's WCR11 bootstrap of ``H0: coef[column] = null``.

    wildboottest 0.3.2's ``WildboottestCL`` fixes ``r = 0`` (``self.r = 0`` and ``R b - 0`` in
    its restricted fit), so ``H0: b_j = null`` is tested as ``H0: b_j = 0`` on ``y - null x_j``:
    the same restricted fit, the same bootstrap t's (the offset is what imposes the null).
    """
    restriction = np.zeros(x.shape[1])
    restriction[column] = 1.0
    boot = wildboottest.WildboottestCL(X=x, Y=y - null * x[:, column], cluster=cluster,
                                       R=restriction, B=draws, seed=11, parallel=False)
    boot.get_scores(bootstrap_type="11", impose_null=True)
    boot.get_weights(weights_type=weights)
    boot.get_numer()
    # get_denom decorates a fresh numba closure on every call (0.4-4 s of compiling); for a
    # few hundred draws its own loops run faster interpreted (same code, rounding-level
    # differences only).  Restored at once so nothing else in the session is affected.
    disabled = numba.config.DISABLE_JIT
    numba.config.DISABLE_JIT = True
    try:
        boot.get_denom()
    finally:
        numba.config.DISABLE_JIT = disabled
    boot.get_tboot()
    boot.get_vcov()
    boot.get_tstat()
    boot.get_pvalue(pval_type="two-tailed")
    return boot


def peer_pvalue(x: np.ndarray, y: np.ndarray, cluster: np.ndarray, column: int, draws: int,
                weights: str, null: float = 0.0) -> float:
    return float(peer_bootstrap(x, y, cluster, column, draws, weights, null).pvalue)


def peer_pvalue_with_ties(boot) -> float:
    """The peer's own t* and t, counted with our convention (ties |t*| = |t| are extreme)."""
    return float(np.mean(np.abs(boot.t_boot) >= np.abs(boot.t_stat) * (1 - 1e-12)))


def test_enumerated_rademacher_pvalue_matches_wildboottest():
    frame = clustered_data(8, seed=1)  # 2**8 = 256 <= 999: both enumerate all sign vectors
    with pytest.warns(FewClustersWarning, match="wild_cluster_bootstrap"):
        fit = feols("y ~ x1 + x2", frame, vcov={"cluster": "g"})
    ours = wild_cluster_bootstrap(fit, "x1", n_draws=999)
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
        warnings.simplefilter("ignore", FewClustersWarning)
        fit = feols("y ~ x1 + x2 | unit", frame, vcov={"cluster": "g"})
    draws = 4999
    ours = wild_cluster_bootstrap(fit, "x1", n_draws=draws, weight_type=weights, seed=3)
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
        warnings.simplefilter("ignore", FewClustersWarning)
        fit = feols("y ~ x1 + x2", frame, vcov={"cluster": "g"})
    first = wild_cluster_bootstrap(fit, "x2", n_draws=299, weight_type="webb", seed=9)
    assert first.equals(wild_cluster_bootstrap(fit, "x2", n_draws=299, weight_type="webb", seed=9))
    with pytest.raises(OptionError, match="one-way clustering"):
        wild_cluster_bootstrap(feols("y ~ x1 + x2", frame), "x1")
    with pytest.raises(KeyError):
        wild_cluster_bootstrap(fit, "x9")


def enumerable_case(case: str):
    """A fit whose 2**G Rademacher sign vectors are all enumerated, and the peer's arrays."""
    if case == "no_fe":  # G = 8: 256 sign vectors; x = [1, x1, x2], tested column x1
        frame = clustered_data(8, seed=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FewClustersWarning)
            fit = feols("y ~ x1 + x2", frame, vcov={"cluster": "g"})
        x = np.column_stack([np.ones(len(frame)), frame["x1"], frame["x2"]])
        return fit, x, frame["y"].to_numpy(), frame["g"].to_numpy(), 1, "x1", 999
    # G = 10 with unit fixed effects: 1024 sign vectors; the peer gets the demeaned data (FWL)
    frame = clustered_data(10, seed=12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        fit = feols("y ~ x1 + x2 | unit", frame, vcov={"cluster": "g"})
    demeaned = frame[["y", "x1", "x2"]] - frame.groupby("unit")[["y", "x1", "x2"]].transform("mean")
    x = demeaned[["x1", "x2"]].to_numpy()
    return fit, x, demeaned["y"].to_numpy(), frame["g"].to_numpy(), 1, "x2", 1999


@pytest.mark.parametrize("case", ["no_fe", "unit_fe"])
def test_pvalues_under_nonzero_nulls_match_wildboottest(case):
    fit, x, y, cluster, column, term, draws = enumerable_case(case)
    n_draws = 2 ** (int(cluster.max()) + 1)
    estimate, se = fit.coef[term], fit.se[term]
    p_values = []
    for null in estimate + se * np.array([-2.9, 0.6, 2.4]):
        ours = wild_cluster_bootstrap(fit, term, r=null, n_draws=draws)
        boot = peer_bootstrap(x, y, cluster, column, draws, "rademacher", null)
        assert ours["draws"] == boot.B == n_draws
        # the same t* and t counted the same way: identical counts (tolerance 1e-10)
        assert ours["p_value"] == pytest.approx(peer_pvalue_with_ties(boot), abs=1e-10)
        # wildboottest's own strict count misses the identity draw and its mirror (|t*| = |t|)
        assert ours["p_value"] - float(boot.pvalue) in (pytest.approx(0.0, abs=1e-10),
                                                        pytest.approx(2 / n_draws, abs=1e-10))
        assert ours["statistic"] == pytest.approx((estimate - null) / se, rel=1e-12)
        assert ours["r"] == null
        p_values.append(ours["p_value"])
    assert len(set(p_values)) == 3 and min(p_values) < 0.05 < max(p_values)  # not a flat check


def test_nonzero_null_matches_a_per_draw_loop_with_the_null_as_offset():
    fit, x, y, cluster, column, term, draws = enumerable_case("no_fe")
    null = fit.coef[term] + 1.1 * fit.se[term]
    others = np.delete(x, column, axis=1)
    offset = null * x[:, column]
    fitted = others @ np.linalg.lstsq(others, y - offset, rcond=None)[0] + offset
    resid = y - fitted

    def cluster_t(y_star: np.ndarray) -> float:
        beta = np.linalg.lstsq(x, y_star, rcond=None)[0]
        scores = pd.DataFrame(x * (y_star - x @ beta)[:, None]).groupby(cluster).sum().to_numpy()
        bread = np.linalg.inv(x.T @ x)
        return (beta[column] - null) / np.sqrt((bread @ scores.T @ scores @ bread)[column, column])

    t_hat = cluster_t(y)
    signs = np.array(list(itertools.product([-1.0, 1.0], repeat=8)))
    t_star = np.array([cluster_t(fitted + sign[cluster] * resid) for sign in signs])
    expected = np.mean(np.abs(t_star) >= np.abs(t_hat) * (1 - 1e-12))
    assert wild_cluster_bootstrap(fit, term, r=null, n_draws=draws)["p_value"] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("case", "level"), [("no_fe", 0.95), ("unit_fe", 0.90)])
def test_interval_endpoints_are_where_the_wildboottest_pvalue_crosses_alpha(case, level):
    fit, x, y, cluster, column, term, draws = enumerable_case(case)
    step = 2 / 2 ** (int(cluster.max()) + 1)  # p-values move in mirror pairs of sign vectors
    alpha = 1 - level
    ours = wild_cluster_bootstrap(fit, term, n_draws=draws, level=level)
    assert ours["conf_low"] < ours["estimate"] < ours["conf_high"]
    curve = wcr_pvalue_curve(fit, term, n_draws=draws)
    tiny = 1e-8 * fit.se[term]  # far below the spacing of the steps of p(r)
    for endpoint, inward in ((ours["conf_low"], 1.0), (ours["conf_high"], -1.0)):
        # our own p-value: the endpoint is inside, the next float outward is outside
        assert wild_cluster_bootstrap(fit, term, r=endpoint, n_draws=draws)["p_value"] >= alpha
        outward_float = np.nextafter(endpoint, endpoint - inward * np.inf)
        assert curve.p_values(outward_float)[0] < alpha
        # the peer: just inside p is in [alpha, alpha + step), just outside one step lower
        inside = peer_bootstrap(x, y, cluster, column, draws, "rademacher", endpoint + inward * tiny)
        outside = peer_bootstrap(x, y, cluster, column, draws, "rademacher", endpoint - inward * tiny)
        p_inside, p_outside = peer_pvalue_with_ties(inside), peer_pvalue_with_ties(outside)
        assert alpha <= p_inside < alpha + step
        assert p_outside == pytest.approx(p_inside - step, abs=1e-10)
        # the interval is the hull: nothing further out is inside (up to 20 standard errors)
        beyond = endpoint - inward * fit.se[term] * np.linspace(1e-6, 20, 4001)
        assert curve.p_values(beyond).max() < alpha


@pytest.mark.parametrize("weights", ["rademacher", "webb"])
def test_interval_is_close_to_the_cluster_robust_interval_with_many_clusters(weights):
    frame = clustered_data(200, seed=5)
    fit = feols("y ~ x1 + x2", frame, vcov={"cluster": "g"})
    ours = wild_cluster_bootstrap(fit, "x1", n_draws=1999, weight_type=weights, seed=1)
    crve = fit.tidy().set_index("term").loc["x1"]
    half_width = crve["conf_high"] - crve["estimate"]
    assert ours["conf_low"] < ours["estimate"] < ours["conf_high"]
    # tolerance 15% of the cluster-robust half-width per endpoint: the WCR interval follows the
    # skewness of the cluster scores, so each endpoint may shift by O(G**-0.5) = ~7% at G = 200
    # (seen here: -6% low, +3% high), plus Monte Carlo error (sd ~2% with B = 1999)
    assert abs(ours["conf_low"] - crve["conf_low"]) < 0.15 * half_width
    assert abs(ours["conf_high"] - crve["conf_high"]) < 0.15 * half_width
    width_ratio = (ours["conf_high"] - ours["conf_low"]) / (2 * half_width)
    assert 0.9 < width_ratio < 1.1


def test_webb_interval_is_reproducible_by_seed():
    frame = clustered_data(14, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        fit = feols("y ~ x1 + x2 | unit", frame, vcov={"cluster": "g"})
    first = wild_cluster_bootstrap(fit, "x1", n_draws=499, weight_type="webb", seed=9, r=0.1)
    again = wild_cluster_bootstrap(fit, "x1", n_draws=499, weight_type="webb", seed=9, r=0.1)
    other = wild_cluster_bootstrap(fit, "x1", n_draws=499, weight_type="webb", seed=10, r=0.1)
    assert np.isfinite([first["conf_low"], first["conf_high"]]).all()
    assert first.equals(again)
    assert (first["conf_low"], first["conf_high"]) != (other["conf_low"], other["conf_high"])


def test_interval_is_unbounded_when_enumeration_cannot_reject():
    frame = clustered_data(5, seed=6)  # 32 sign vectors: p(r) >= 2 / 32 > 0.05 for every r
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        fit = feols("y ~ x1 + x2", frame, vcov={"cluster": "g"})
    wide = wild_cluster_bootstrap(fit, "x1", level=0.95)
    assert (wide["conf_low"], wide["conf_high"]) == (-np.inf, np.inf)
    far = fit.coef["x1"] + fit.se["x1"] * np.array([-1e4, 1e4])
    assert wcr_pvalue_curve(fit, "x1").p_values(far).min() == pytest.approx(2 / 32, abs=1e-12)
    narrow = wild_cluster_bootstrap(fit, "x1", level=0.90)  # alpha = 0.1 > 2 / 32
    assert np.isfinite([narrow["conf_low"], narrow["conf_high"]]).all()
    with pytest.raises(ValueError, match="level"):
        wild_cluster_bootstrap(fit, "x1", level=95)


def test_randomization_inference_is_exact_on_an_enumerable_design():
    rng = np.random.default_rng(7)
    clusters, per_cell = 6, 3
    frame = pd.DataFrame({"g": np.repeat(np.arange(clusters), 2 * per_cell),
                          "post": np.tile(np.repeat([0, 1], per_cell), clusters)})
    frame["treated"] = (frame["g"] < 3).astype(int)
    frame["y"] = rng.normal(size=len(frame)) + 0.8 * frame["treated"] * frame["post"] + frame["g"] * 0.1
    result = randomization_inference("y ~ treated + post + treated:post", frame,
                                     term="treated:post", treatment="treated", cluster="g",
                                     n_draws="all")

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
    kwargs = dict(term="treated:post", treatment="treated", cluster="g", n_draws=19, seed=1)
    drawn = randomization_inference("y ~ treated + post + treated:post", frame, **kwargs)
    assert drawn["exact"] == 0.0 and drawn["permutations"] == 19
    assert drawn.equals(randomization_inference("y ~ treated + post + treated:post", frame, **kwargs))
    assert abs(drawn["p_value"] - expected) < 0.5


def test_randomization_refuses_a_treatment_that_varies_within_clusters():
    frame = pd.DataFrame({"g": [0, 0, 1, 1], "post": [0, 1, 0, 1], "treated": [0, 1, 0, 0],
                          "y": [1.0, 2.0, 0.5, 0.7]})
    with pytest.raises(IdentificationError, match="varies within 'g'"):
        randomization_inference("y ~ treated + post", frame, term="treated", treatment="treated",
                                cluster="g", n_draws="all")
