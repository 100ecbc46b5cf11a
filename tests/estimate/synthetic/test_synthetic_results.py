"""What a synthetic result shows: the gap path averages to the effect, the weights add up, the
diagnostics are the gap's own RMSPEs, and every plot kind draws without pyplot state."""
from __future__ import annotations

import numpy as np
import pytest

import effectmeting as em
from synthetic_panels import block_panel

BLOCK = {"outcome": "y", "unit": "unit", "time": "year", "treatment": "d"}


@pytest.fixture(scope="module")
def fits():
    data = block_panel(n_units=12, n_treated=2, effect=2.0, seed=8)
    return {"sdid": em.synthetic_did(data, **BLOCK, se_method="jackknife"),
            "sc": em.synthetic_control(data, **BLOCK)}


@pytest.mark.parametrize("name", ["sdid", "sc"])
def test_gap_weights_and_diagnostics(fits, name):
    fit = fits[name]
    gaps = fit.gaps()
    post = gaps[gaps["post"]]
    assert post["gap"].mean() == pytest.approx(fit.estimate, abs=1e-10)
    np.testing.assert_allclose(gaps["treated"] - gaps["synthetic"], gaps["gap"], atol=1e-12)
    facts = fit.glance().iloc[0]
    pre = gaps[~gaps["post"]]["gap"]
    assert facts["pre_rmspe"] == pytest.approx(np.sqrt(np.mean(pre**2)))
    assert facts["rmspe_ratio"] == pytest.approx(facts["post_rmspe"] / facts["pre_rmspe"])
    weights = fit.tidy_weights()
    assert list(weights.columns) == ["kind", "unit", "period", "weight"]
    for _, part in weights.groupby("kind"):
        assert part["weight"].sum() == pytest.approx(1.0) and (part["weight"] >= -1e-15).all()
    assert set(weights["kind"]) == ({"unit", "time"} if name == "sdid" else {"unit"})
    if name == "sdid":  # the units have trends of their own: the level-matching SC twin need not recover it
        assert abs(fit.estimate - 2.0) < 1.0  # the planted effect, within the noise of two treated units


@pytest.mark.parametrize("kind", ["both", "trajectory", "gap", "placebo", "weights"])
def test_every_plot_kind(fits, kind):
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    plt.close("all")
    figure = fits["sc"].plot(kind=kind)
    assert isinstance(figure, Figure) and plt.get_fignums() == []
    if kind == "placebo":
        assert len(figure.axes[0].lines) == len(fits["sc"].placebos()) + 3  # placebos, gap, zero and adoption lines
