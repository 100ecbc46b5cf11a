"""Fuzzing the door (issue 17, item 3): malformed source files through ``harmonise``.

A hypothesis strategy damages a valid population file (random text or bytes in cells, truncation,
extra delimiters and quotes, other encodings, header damage, line endings) and hands it to
:func:`effectmeting.harmonise` as a user's ``sources.toml`` would.  Only two outcomes are allowed:

* one of the package's errors (:class:`~effectmeting.errors.EffectmetingError`) with a bounded,
  non-empty message that names the file; never another exception type (a traceback for the user);
* a panel whose audit adds up (every row the reader counted is recorded exactly once) and whose
  population total equals the sum of the rows it kept, each times its crosswalk weight (totals
  conserved, nothing lost silently).

The fast suite runs a fixed, derandomised budget (the same examples every run, so CI cannot turn red
on a new random draw); the slow suite runs a larger one.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from effectmeting.errors import EffectmetingError
from effectmeting.harmonise.audit import AuditLog
from effectmeting.harmonise.pipeline import harmonise, read_source
from effectmeting.sources.sources_toml import SourceSpec

HEADER = ["municipality", "year", "population_total", "population_0_17", "population_18_plus"]
#: Den Haag, Rotterdam, Utrecht, Eindhoven (no herindeling 2020-2023) and, for 2020 only, Appingedam,
#: Delfzijl and Loppersum, which merged into Eemsdelta (GM1979) on 1 January 2021.
ROWS = [[code, str(year), str(total), str(young), str(total - young)]
        for code, total, young in (("GM0518", 545838, 100000), ("GM0599", 651446, 120000),
                                   ("GM0344", 357179, 60000), ("GM0772", 235691, 40000),
                                   ("GM0003", 11801, 2000), ("GM0010", 24716, 4500), ("GM0024", 9698, 1800))
        for year in (2020, 2021, 2022) if not (code in ("GM0003", "GM0010", "GM0024") and year > 2020)]
#: The longest message an error may have: one paragraph, never a data dump.
MESSAGE_LIMIT = 1_500
KEPT = ("kept", "changed", "merged", "split")


def clean_lines() -> list[list[str]]:
    return [list(HEADER)] + [list(row) for row in ROWS]


cell_text = st.one_of(
    st.text(max_size=12),
    st.text(alphabet=',;"\'\t\r\n\x00 -.eE+', max_size=6),
    st.sampled_from(["", " ", "NA", "-", ".", "x", "1e309", "-5", "1,5", "1.000.000", "inf", "GM9999", "gm363",
                     "363", "WK036300", "2023HJ01", "0", "99999999999999999999999", "\ufeff", "é"]),
)


@st.composite
def damaged_files(draw) -> bytes:
    """A valid population CSV with one to three kinds of damage."""
    lines = clean_lines()
    separator = draw(st.sampled_from([",", ";"]))
    for _ in range(draw(st.integers(0, 3))):  # damage cells (the header included)
        line = draw(st.integers(0, len(lines) - 1))
        field = draw(st.integers(0, len(HEADER) - 1))
        lines[line][field] = draw(cell_text)
    if draw(st.booleans()):  # ragged: a line loses or gains fields
        line = lines[draw(st.integers(0, len(lines) - 1))]
        if draw(st.booleans()):
            del line[draw(st.integers(0, len(line) - 1)):]
        else:
            line.extend(draw(st.lists(cell_text, min_size=1, max_size=3)))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(separator.join(line) for line in lines) + draw(st.sampled_from([newline, ""]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):  # bytes inserted somewhere (a damaged download)
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    if draw(st.booleans()):  # truncated
        data = data[: draw(st.integers(0, len(data)))]
    return data


def check_outcome(path: Path) -> str:
    """Harmonise ``path`` as the population source; assert that the outcome is an allowed one."""
    entry = {"name": "pop", "path": str(path), "table": "population"}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # warnings are allowed; only the outcome is checked
            panel = harmonise([entry], reference_year=2023)
    except EffectmetingError as error:
        message = str(error)
        assert message.strip(), "an error without a message"
        assert len(message) <= MESSAGE_LIMIT, (len(message), message[:300])
        assert "Traceback" not in message
        return "refused"
    # A panel: the audit records every row the reader counted, exactly once.
    rows = panel.sources[0]["rows"]
    audit = panel.audit.frame
    assert len(audit) == rows == panel.audit.summary().loc["pop", "total"]
    assert audit["source_row"].is_unique
    # Totals conserved: each panel cell is the sum of the kept rows mapped to it times their weights;
    # a cell whose predecessors are incomplete is NA (never a partial sum), with a note in the audit.
    frame, _ = read_source(SourceSpec(name="pop", path=path, table="population"), AuditLog())
    kept = audit[audit["action"].isin(KEPT)].copy()
    values = frame.set_index("source_row")["population_total"].astype("float64")
    kept["value"] = values.reindex(kept["source_row"]).to_numpy() * kept["weight"].astype("float64").fillna(1.0)
    kept["year"] = kept["year"].astype("int64")
    expected = kept.groupby(["municipality_to", "year"])["value"].sum(min_count=1)
    cells = panel.data.assign(year=panel.data["year"].astype("int64")).set_index(["municipality", "year"])
    observed = cells["population_total"].astype("float64").reindex(expected.index)
    missing = observed.isna()
    assert np.allclose(observed[~missing], expected[~missing], rtol=1e-12, atol=1e-6), (observed, expected)
    events = panel.audit.events
    noted = set(zip(events["municipality"].astype("string"), events["year"].astype("Int64")))
    assert all((code, year) in noted for code, year in expected.index[missing.to_numpy()]), "an NA cell without a note"
    return "panel"


def test_the_undamaged_file_harmonises_and_conserves_its_total(tmp_path):
    path = tmp_path / "population.csv"
    path.write_text("\n".join(",".join(line) for line in clean_lines()) + "\n", encoding="utf-8")
    assert check_outcome(path) == "panel"
    # the check can fail: a file whose total the panel does not carry is caught
    panel = harmonise([{"name": "pop", "path": str(path), "table": "population"}], reference_year=2023)
    assert panel.data["population_total"].notna().all()
    assert panel.data["population_total"].sum() == sum(int(row[2]) for row in ROWS)
    eemsdelta = panel.data.set_index(["municipality", "year"]).loc[("GM1979", 2020), "population_total"]
    assert eemsdelta == 11801 + 24716 + 9698


def _fuzz(data: bytes, tmp_path_factory) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "population.csv"
    path.write_bytes(data)
    check_outcome(path)


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=damaged_files())
def test_damaged_population_files_are_refused_or_audited(data, tmp_path_factory):
    _fuzz(data, tmp_path_factory)


@pytest.mark.slow
@settings(max_examples=1_000, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=damaged_files())
def test_damaged_population_files_are_refused_or_audited_large_budget(data, tmp_path_factory):
    _fuzz(data, tmp_path_factory)
