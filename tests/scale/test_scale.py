"""effectmeting.scale: person-years -> municipality x year tables, disclosure control, movers.

References: counts and weighted sums from a plain pandas groupby written here, independently of
the package; rates recomputed from those counts; hand-made examples worked out in comments.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from effectmeting.errors import InputError, SchemaValidationError
from effectmeting.scale import aggregate_persons, movers, suppress_small_cells
from effectmeting.scale import aggregate as aggregate_module

INDICATORS = ["jeugdhulp", "wmo", "jeugdbescherming"]
KEYS = dict(person="rin", municipality="gemeente", year="jaar")


def simulate_person_years(persons: int = 50_000, years: range = range(2017, 2022), seed: int = 20240) -> pd.DataFrame:
    """~200,000 person-years: skewed municipality sizes (some tiny), 8 % movers a year, persons
    entering and leaving, NA in the indicators, survey-style weights."""
    rng = np.random.default_rng(seed)
    n_municipalities = 40
    size = 1.0 / np.arange(1, n_municipalities + 1) ** 1.6
    codes = np.array([f"GM{code:04d}" for code in rng.choice(np.arange(1, 2000), n_municipalities, replace=False)])
    home = rng.choice(n_municipalities, persons, p=size / size.sum())
    frames = []
    for year in years:
        move = rng.random(persons) < 0.08
        home = np.where(move, rng.choice(n_municipalities, persons, p=size / size.sum()), home)
        present = rng.random(persons) < 0.8  # persons enter and leave the register
        ids = np.flatnonzero(present)
        frame = pd.DataFrame({"rin": ids + 10_000_000, "jaar": year, "gemeente": codes[home[ids]]})
        for name, p in zip(INDICATORS, (0.11, 0.05, 0.01)):
            values = (rng.random(ids.size) < p).astype("float64")
            values[rng.random(ids.size) < 0.03] = np.nan
            frame[name] = values
        frame["gewicht"] = rng.uniform(0.5, 3.0, ids.size).round(4)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def person_years() -> pd.DataFrame:
    return simulate_person_years()


@pytest.fixture(scope="module")
def parquet_dir(person_years, tmp_path_factory):
    """The person-years split over one Parquet file per year, as on a remote-access share."""
    folder = tmp_path_factory.mktemp("microdata")
    for year, part in person_years.groupby("jaar"):
        part.to_parquet(folder / f"persons_{year}.parquet", index=False)
    return folder


def independent_reference(data: pd.DataFrame) -> pd.DataFrame:
    """Counts and weighted sums by a plain groupby, written without the package."""
    work = data.assign(**{f"{i}__pos": data[i].eq(1) for i in INDICATORS},
                       **{f"{i}__na": data[i].isna() for i in INDICATORS},
                       **{f"{i}__w": data["gewicht"].where(data[i].eq(1), 0.0) for i in INDICATORS},
                       **{f"{i}__wobs": data["gewicht"].where(data[i].notna(), 0.0) for i in INDICATORS})
    grouped = work.groupby(["gemeente", "jaar"])
    reference = grouped.size().rename("persons").to_frame()
    reference["persons_weighted"] = grouped["gewicht"].sum()
    for i in INDICATORS:
        reference[i] = grouped[f"{i}__pos"].sum()
        reference[f"{i}_missing"] = grouped[f"{i}__na"].sum()
        reference[f"{i}_weighted"] = grouped[f"{i}__w"].sum()
        reference[f"{i}_wobs"] = grouped[f"{i}__wobs"].sum()
    return reference.reset_index().rename(columns={"gemeente": "municipality", "jaar": "year"})


def test_backends_give_identical_frames(parquet_dir, person_years):
    pytest.importorskip("duckdb")
    common = dict(**KEYS, indicators=INDICATORS, weights="gewicht")
    from_duckdb, _ = aggregate_persons(parquet_dir, **common, backend="duckdb")
    from_pandas, _ = aggregate_persons(parquet_dir, **common, backend="pandas")
    pd.testing.assert_frame_equal(from_duckdb, from_pandas, check_exact=True)
    glob_auto, _ = aggregate_persons(str(parquet_dir / "persons_*.parquet"), **common)  # auto -> DuckDB
    pd.testing.assert_frame_equal(glob_auto, from_pandas, check_exact=True)
    frame_duckdb, _ = aggregate_persons(person_years, **common, backend="duckdb")
    pd.testing.assert_frame_equal(frame_duckdb, from_pandas, check_exact=True)
    suppressed_duckdb = aggregate_persons(parquet_dir, **common, min_cell_size=10, secondary="row", backend="duckdb")
    suppressed_pandas = aggregate_persons(parquet_dir, **common, min_cell_size=10, secondary="row", backend="pandas")
    for left, right in zip(suppressed_duckdb, suppressed_pandas):
        pd.testing.assert_frame_equal(left, right, check_exact=True)


@pytest.mark.parametrize("backend", ["pandas", "duckdb"])
def test_counts_and_rates_equal_independent_groupby(parquet_dir, person_years, backend):
    if backend == "duckdb":
        pytest.importorskip("duckdb")
    table, audit = aggregate_persons(parquet_dir, **KEYS, indicators=INDICATORS, weights="gewicht", backend=backend)
    reference = independent_reference(person_years)
    assert audit.empty
    assert len(table) == len(reference) == person_years.groupby(["gemeente", "jaar"]).ngroups
    assert table[["municipality", "year"]].equals(reference[["municipality", "year"]])  # both sorted
    assert int(table["persons"].sum()) == len(person_years)
    for column in ["persons"] + INDICATORS + [f"{i}_missing" for i in INDICATORS]:
        np.testing.assert_array_equal(table[column].to_numpy(dtype="int64"), reference[column].to_numpy(), err_msg=column)
    # Weights are rounded to 1e-6 before summing: a group of n weights may differ by n x 5e-7.
    tolerance = reference["persons"].to_numpy() * 5e-7 + 1e-9
    for column in ["persons_weighted"] + [f"{i}_weighted" for i in INDICATORS]:
        difference = np.abs(table[column].to_numpy(dtype="float64") - reference[column].to_numpy())
        assert (difference <= tolerance).all(), column
    for i in INDICATORS:
        observed = reference["persons"] - reference[f"{i}_missing"]
        np.testing.assert_allclose(table[f"{i}_per_1000"].to_numpy(dtype="float64"),
                                   1000 * reference[i] / observed, rtol=1e-14, err_msg=i)
        np.testing.assert_allclose(table[f"{i}_weighted_per_1000"].to_numpy(dtype="float64"),
                                   1000 * reference[f"{i}_weighted"] / reference[f"{i}_wobs"], rtol=1e-6, err_msg=i)


def test_movers_count_where_they_lived_each_year():
    # Person 1 lives in GM0001 in 2020 and in GM0002 in 2021: one person-year in each.
    data = pd.DataFrame({"rin": [1, 1, 2, 2], "jaar": [2020, 2021, 2020, 2021],
                         "gemeente": ["GM0001", "GM0002", "GM0001", "GM0001"], "jeugdhulp": [1, 1, 0, 1]})
    table, _ = aggregate_persons(data, **KEYS, indicators=["jeugdhulp"], backend="pandas")
    expected = pd.DataFrame({"municipality": ["GM0001", "GM0001", "GM0002"], "year": [2020, 2021, 2021],
                             "persons": [2, 1, 1], "jeugdhulp": [1, 1, 1]})
    got = table[["municipality", "year", "persons", "jeugdhulp"]].astype({"persons": "int64", "jeugdhulp": "int64"})
    pd.testing.assert_frame_equal(got, expected.astype({"municipality": "str"}), check_exact=True)


@pytest.mark.parametrize("backend", ["pandas", "duckdb"])
def test_missing_indicator_is_excluded_not_zero(backend, tmp_path):
    if backend == "duckdb":
        pytest.importorskip("duckdb")
    # GM0001 2020: values 1, 0, NA, 1 -> count 2, missing 1, rate 1000 x 2 / 3 (not 2 / 4).
    # GM0002 2020: all NA -> count 0, missing 2, rate NA (nobody observed).  NaN and None alike.
    data = pd.DataFrame({"rin": [1, 2, 3, 4, 5, 6], "jaar": 2020,
                         "gemeente": ["GM0001"] * 4 + ["GM0002"] * 2,
                         "jeugdhulp": pd.array([1, 0, None, 1, None, None], dtype="Int64"),
                         "wmo": [1.0, 1.0, np.nan, 0.0, 1.0, np.nan]})
    path = tmp_path / "na.parquet"
    data.to_parquet(path, index=False)
    table, _ = aggregate_persons(path, **KEYS, indicators=["jeugdhulp", "wmo"], backend=backend)
    assert table["jeugdhulp"].tolist() == [2, 0]
    assert table["jeugdhulp_missing"].tolist() == [1, 2]
    assert table["jeugdhulp_per_1000"].iloc[0] == pytest.approx(2000 / 3, rel=1e-15)
    assert table["jeugdhulp_per_1000"].isna().tolist() == [False, True]
    assert table["wmo"].tolist() == [2, 1]
    assert table["wmo_per_1000"].tolist() == pytest.approx([2000 / 3, 1000.0], rel=1e-15)


@pytest.mark.parametrize("backend", ["pandas", "duckdb"])
def test_duplicate_person_year_is_refused_naming_person_and_year(backend, tmp_path):
    if backend == "duckdb":
        pytest.importorskip("duckdb")
    data = pd.DataFrame({"rin": [11, 12, 12, 13], "jaar": [2020, 2021, 2021, 2021],
                         "gemeente": ["GM0001", "GM0001", "GM0002", "GM0001"], "jeugdhulp": [0, 1, 1, 0]})
    path = tmp_path / "dup.parquet"
    data.to_parquet(path, index=False)
    with pytest.raises(SchemaValidationError, match=r"person 12 has 2 rows in year 2021") as caught:
        aggregate_persons(path, **KEYS, indicators=["jeugdhulp"], backend=backend)
    assert caught.value.failures["value"].tolist() == ["12, 2021"]
    with pytest.raises(SchemaValidationError, match=r"person 12 has 2 rows in year 2021"):
        movers(path, **KEYS)


@pytest.mark.parametrize("backend", ["pandas", "duckdb"])
def test_bad_values_are_refused(backend):
    if backend == "duckdb":
        pytest.importorskip("duckdb")
    data = pd.DataFrame({"rin": [1, 2], "jaar": [2020, 2020], "gemeente": ["GM0001"] * 2,
                         "jeugdhulp": [1, 2], "gewicht": [1.0, -1.0]})
    with pytest.raises(InputError, match=r"indicator 'jeugdhulp' is 2 for person 2 in year 2020"):
        aggregate_persons(data, **KEYS, indicators=["jeugdhulp"], backend=backend)
    data["jeugdhulp"] = [1, 0]
    with pytest.raises(InputError, match=r"weight 'gewicht' is -1.0 for person 2"):
        aggregate_persons(data, **KEYS, indicators=["jeugdhulp"], weights="gewicht", backend=backend)
    data["gemeente"] = ["GM0001", None]
    with pytest.raises(InputError, match="missing person, municipality or year"):
        aggregate_persons(data, **KEYS, indicators=["jeugdhulp"], backend=backend)


def test_identifier_injection_is_refused(parquet_dir):
    hostile = 'x"; DROP TABLE t; --'
    for backend in ("pandas", "duckdb"):
        with pytest.raises(InputError, match=r"indicators column 'x\"; DROP TABLE t; --' is not a column"):
            aggregate_persons(parquet_dir, **KEYS, indicators=[hostile], backend=backend)
        with pytest.raises(InputError, match="is not a column"):
            aggregate_persons(parquet_dir, person="rin", municipality="gemeente", year="jaar; --",
                              indicators=INDICATORS, backend=backend)


def test_hostile_but_real_column_name_is_quoted_not_executed(tmp_path):
    pytest.importorskip("duckdb")
    hostile = 'x"; DROP TABLE t; --'
    data = pd.DataFrame({"rin": [1, 2, 3], "jaar": 2020, "gemeente": "GM0001", hostile: [1, 0, 1]})
    path = tmp_path / "hostile.parquet"
    data.to_parquet(path, index=False)
    table, _ = aggregate_persons(path, **KEYS, indicators=[hostile], backend="duckdb")
    assert table[hostile].tolist() == [2]


def test_disclosure_every_suppressed_cell_is_audited_and_nothing_below_k(parquet_dir):
    k = 10
    raw, _ = aggregate_persons(parquet_dir, **KEYS, indicators=INDICATORS, weights="gewicht", backend="pandas")
    table, audit = aggregate_persons(parquet_dir, **KEYS, indicators=INDICATORS, weights="gewicht",
                                     min_cell_size=k, backend="pandas")
    value_columns = [c for c in raw.columns if c not in ("municipality", "year")]
    newly_na = table[value_columns].isna() & raw[value_columns].notna()
    rows, columns = np.nonzero(newly_na.to_numpy())
    suppressed = set(zip(raw["municipality"].to_numpy()[rows], raw["year"].to_numpy()[rows],
                         np.array(value_columns)[columns]))
    audited = set(zip(audit["municipality"], audit["year"], audit["column"]))
    assert len(suppressed) > 50 and len(audit) == len(audited)  # the simulation has small cells
    assert suppressed == audited
    assert set(audit["rule"]) <= {"primary", "derived"}
    # Published cells disclose at least k persons.
    assert (table["persons"].dropna() >= k).all()
    for i in INDICATORS:
        published = table[i].notna()
        observed = raw["persons"] - raw[f"{i}_missing"]
        assert (raw.loc[published, i] >= k).all() and (observed[published] - raw.loc[published, i] >= k).all()
        missing = table[f"{i}_missing"].dropna()
        assert ((missing == 0) | (missing >= k)).all()
        # A rate or weighted value is never published next to a hidden count or missing count.
        for derived in (f"{i}_per_1000", f"{i}_weighted", f"{i}_weighted_per_1000"):
            assert not (table[derived].notna() & (table[i].isna() | table[f"{i}_missing"].isna())).any()
    # The untouched cells keep their values exactly.
    kept = ~newly_na
    for column in value_columns:
        assert table.loc[kept[column], column].equals(raw.loc[kept[column], column])
    # secondary="row" leaves no municipality-year with exactly one hidden count beside published ones.
    with_row, row_audit = aggregate_persons(parquet_dir, **KEYS, indicators=INDICATORS, weights="gewicht",
                                            min_cell_size=k, secondary="row", backend="pandas")
    hidden = with_row[INDICATORS].isna().sum(axis=1)
    assert ((hidden != 1) | with_row["persons"].isna()).all()
    assert (row_audit["rule"] == "secondary").sum() == (hidden[table[INDICATORS].isna().sum(axis=1) == 1] == 2).sum() > 0


def test_disclosure_hand_made_example():
    # k = 5.  Row A: persons 40, a=3 (count < 5), b=37 with missing 0 -> complement 3 < 5, c=20.
    # Row B: persons 4 -> everything suppressed.  Row C: persons 50, a=10, missing 2 (< 5) -> missing
    # and rate suppressed, count published; b=10, c=30 all fine.
    table = pd.DataFrame({
        "municipality": ["A", "B", "C"], "year": [2020, 2020, 2020],
        "persons": pd.array([40, 4, 50], dtype="Int64"),
        "a": pd.array([3, 1, 10], dtype="Int64"), "a_missing": pd.array([0, 0, 2], dtype="Int64"),
        "a_per_1000": pd.array([75.0, 250.0, 1000 * 10 / 48], dtype="Float64"),
        "b": pd.array([37, 2, 10], dtype="Int64"), "b_missing": pd.array([0, 0, 0], dtype="Int64"),
        "b_per_1000": pd.array([925.0, 500.0, 200.0], dtype="Float64"),
        "c": pd.array([20, 2, 30], dtype="Int64"), "c_missing": pd.array([0, 0, 0], dtype="Int64"),
        "c_per_1000": pd.array([500.0, 500.0, 600.0], dtype="Float64")})
    published, audit = suppress_small_cells(table, indicators=["a", "b", "c"], min_cell_size=5)
    assert published.loc[0, ["a", "a_per_1000", "b", "b_per_1000"]].isna().all()
    assert published.loc[0, ["persons", "c", "c_per_1000"]].tolist() == [40, 20, 500.0]
    assert published.loc[1].drop(["municipality", "year"]).isna().all()
    assert published.loc[2, ["a_missing", "a_per_1000"]].isna().all()
    assert published.loc[2, ["persons", "a", "b", "c"]].tolist() == [50, 10, 10, 30]
    reasons = audit.set_index(["municipality", "column"])["reason"]
    assert reasons[("A", "a")] == "count < 5"
    assert reasons[("A", "b")] == "complement (persons - missing - count) < 5"
    assert reasons[("C", "a_missing")] == "missing count between 1 and 4"
    assert (audit.loc[audit["municipality"] == "B", "reason"] == "persons < 5").all()
    assert len(audit.loc[audit["municipality"] == "B"]) == 10


def test_secondary_row_suppression():
    # Categories that partition persons: a + b + c + d = persons (40 and 60).  k = 5.
    # Row X: only a (=2) is suppressed -> persons - (b + c + d) would reveal it, so "row" also
    #        hides the smallest other count, c = 6 (rates follow); the reader now has two unknowns.
    # Row Y: a (=1) and b (=3) both suppressed -> nothing more to do.
    # Row Z: only d (=4) suppressed; a and b tie at 10 -> the first (a) is hidden.
    counts = {"X": [2, 20, 6, 12], "Y": [1, 3, 30, 26], "Z": [10, 10, 16, 4]}
    rows = []
    for name, values in counts.items():
        persons = sum(values)
        row = {"municipality": name, "year": 2021, "persons": persons}
        for letter, value in zip("abcd", values):
            row.update({letter: value, f"{letter}_missing": 0, f"{letter}_per_1000": 1000 * value / persons})
        rows.append(row)
    table = pd.DataFrame(rows).astype({c: "Int64" for c in ["persons", *"abcd", *[f"{x}_missing" for x in "abcd"]]})
    table = table.astype({f"{x}_per_1000": "Float64" for x in "abcd"})
    plain, _ = suppress_small_cells(table, indicators=list("abcd"), min_cell_size=5)
    published, audit = suppress_small_cells(table, indicators=list("abcd"), min_cell_size=5, secondary="row")
    hidden = {name: [x for x in "abcd" if pd.isna(published.loc[i, x])] for i, name in enumerate(counts)}
    assert hidden == {"X": ["a", "c"], "Y": ["a", "b"], "Z": ["a", "d"]}
    assert [x for x in "abcd" if pd.isna(plain.loc[0, x])] == ["a"]  # without "row" a is recoverable
    secondary = audit[audit["rule"] == "secondary"]
    assert sorted(zip(secondary["municipality"], secondary["column"])) == [("X", "c"), ("Z", "a")]
    assert pd.isna(published.loc[0, "c_per_1000"]) and pd.isna(published.loc[2, "a_per_1000"])
    # After secondary suppression no row has exactly one hidden count.
    assert all(len(v) != 1 for v in hidden.values())


def test_movers_hand_made():
    # A: GM1 (2019), GM1 (2020), GM2 (2021)       -> moves in 2021
    # B: GM1 (2019), absent 2020, GM3 (2021)       -> moves in 2021 (previous observed year 2019)
    # C: GM2 (2020), GM2 (2021)                    -> never moves
    # D: GM2 (2019), GM1 (2020), GM2 (2021)        -> moves in 2020 and back in 2021
    data = pd.DataFrame({
        "rin": ["D", "A", "B", "C", "A", "D", "A", "B", "C", "D"],
        "jaar": [2021, 2019, 2019, 2020, 2020, 2019, 2021, 2021, 2021, 2020],
        "gemeente": ["GM2", "GM1", "GM1", "GM2", "GM1", "GM2", "GM2", "GM3", "GM2", "GM1"]})
    result = movers(data, **KEYS)
    expected = pd.DataFrame({"year": [2019, 2020, 2021], "persons": [3, 3, 4],
                             "with_previous": [0, 2, 4], "movers": [0, 1, 3]})
    pd.testing.assert_frame_equal(result, expected, check_dtype=False, check_exact=True)


def test_movers_on_simulation_matches_merge_reference(person_years):
    result = movers(person_years, **KEYS).set_index("year")
    data = person_years[["rin", "jaar", "gemeente"]]
    # Independent reference: merge each person-year with the person's latest earlier year.
    ordered = data.sort_values(["rin", "jaar"])
    previous = ordered.groupby("rin").shift(1)
    moved = previous["gemeente"].notna() & (previous["gemeente"] != ordered["gemeente"])
    assert result["movers"].tolist() == moved.groupby(ordered["jaar"]).sum().tolist()
    assert result["with_previous"].tolist() == previous["jaar"].notna().groupby(ordered["jaar"]).sum().tolist()


def test_auto_backend_without_duckdb_uses_pandas(parquet_dir, monkeypatch):
    monkeypatch.setattr(aggregate_module, "duckdb_available", lambda: False)
    monkeypatch.setattr(aggregate_module, "sums_duckdb", None)  # would fail if called
    table, _ = aggregate_persons(parquet_dir, **KEYS, indicators=["wmo"])
    assert int(table["persons"].sum()) > 0
    with pytest.raises(InputError, match=r"effectmeting\[scale\]"):
        aggregate_persons(parquet_dir, **KEYS, indicators=["wmo"], backend="duckdb")


def test_argument_errors(parquet_dir, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        aggregate_persons(tmp_path / "nothing.parquet", **KEYS, indicators=["wmo"])
    with pytest.raises(InputError, match="matches no Parquet files"):
        aggregate_persons(str(tmp_path / "*.parquet"), **KEYS, indicators=["wmo"])
    with pytest.raises(InputError, match="both as person and as indicators"):
        aggregate_persons(parquet_dir, **KEYS, indicators=["rin"])
    with pytest.raises(InputError, match="year column 'gewicht'.*integer"):
        aggregate_persons(parquet_dir, person="rin", municipality="gemeente", year="gewicht", indicators=["wmo"])
    with pytest.raises(InputError, match="min_cell_size must be a positive integer"):
        aggregate_persons(parquet_dir, **KEYS, indicators=["wmo"], min_cell_size=0)
    with pytest.raises(InputError, match="secondary must be one of"):
        aggregate_persons(parquet_dir, **KEYS, indicators=["wmo"], secondary="column")


def test_backends_agree_on_integer_codes_boolean_and_nullable_indicators():
    pytest.importorskip("duckdb")
    # Integer municipality codes (363 = Amsterdam), nullable boolean and Int64 indicators with NA.
    data = pd.DataFrame({"rin": [1, 2, 3, 4, 5], "jaar": [2020, 2020, 2020, 2021, 2021],
                         "gemeente": [363, 363, 599, 363, 599],
                         "jeugdhulp": pd.array([True, None, False, True, True], dtype="boolean"),
                         "wmo": pd.array([1, None, 0, 1, None], dtype="Int64")})
    by_pandas, _ = aggregate_persons(data, **KEYS, indicators=["jeugdhulp", "wmo"], backend="pandas")
    by_duckdb, _ = aggregate_persons(data, **KEYS, indicators=["jeugdhulp", "wmo"], backend="duckdb")
    pd.testing.assert_frame_equal(by_pandas, by_duckdb, check_exact=True)
    assert by_pandas["municipality"].tolist() == [363, 363, 599, 599]
    # 363/2020: jeugdhulp True, NA -> 1 of 1 observed; wmo 1, NA -> 1 of 1.
    assert by_pandas.loc[0, ["persons", "jeugdhulp", "jeugdhulp_missing", "jeugdhulp_per_1000"]].tolist() == [2, 1, 1, 1000.0]
    assert pd.isna(by_pandas.loc[3, "wmo_per_1000"])  # 599/2021: the only person has wmo NA
