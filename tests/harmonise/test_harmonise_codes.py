"""Municipality code normalisation and the bundled register."""
from __future__ import annotations

import pandas as pd
import pytest

from effectmeting.errors import HarmonisationError
from effectmeting.harmonise.codes import normalise_municipality_code
from effectmeting.reference.register import codes_valid_in, load_municipalities
from effectmeting.harmonise.transitions import load_transitions


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("GM0363", "GM0363"),
        ("gm0363", "GM0363"),
        ("GM363", "GM0363"),
        ("363", "GM0363"),
        ("0363 ", "GM0363"),
        (363, "GM0363"),
        (363.0, "GM0363"),
        ("  GM0014", "GM0014"),
        ("Amsterdam", "GM0363"),
        ("AMSTERDAM", "GM0363"),
        ("'s-Hertogenbosch", "GM0796"),
        ("s-Hertogenbosch", "GM0796"),
        ("'s Hertogenbosch", "GM0796"),
        ("Den Bosch", "GM0796"),
        ("Den Haag", "GM0518"),
        ("'s-Gravenhage", "GM0518"),
        ("Súdwest-Fryslân", "GM1900"),
        ("Sudwest Fryslan", "GM1900"),
        ("sudwest-fryslan", "GM1900"),
        ("Noardeast-Fryslân", "GM1970"),
        ("Bergen (NH.)", "GM0373"),
        ("Bergen (L.)", "GM0893"),
        ("Laren", "GM0417"),  # unique without its province suffix
        ("Nuenen, Gerwen en Nederwetten", "GM0820"),
        ("Haaren", "GM0788"),  # dissolved 2021, still a valid name for older data
        ("Voorne aan Zee", "GM1992"),
    ],
)
def test_normalise_municipality_code_table(raw, expected):
    assert normalise_municipality_code(pd.Series([raw])).tolist() == [expected]


def test_normalise_keeps_index_and_name():
    values = pd.Series(["363", "Den Haag"], index=[10, 11], name="gemeente")
    result = normalise_municipality_code(values)
    assert result.index.tolist() == [10, 11]
    assert result.name == "gemeente"


def test_bad_values_are_all_listed_with_rows():
    values = pd.Series(["GM0363", "Bergen", "GM9999", None, "Atlantis"])
    with pytest.raises(HarmonisationError) as info:
        normalise_municipality_code(values, rows=[2, 3, 4, 5, 6], source_file="gemeenten.csv")
    message = str(info.value)
    assert "gemeenten.csv" in message and "4 municipality value(s)" in message
    assert "row 3: 'Bergen' (ambiguous name, matches GM0373 and GM0893)" in message
    assert "row 4: 'GM9999' (code not in the municipality register" in message
    assert "row 5:" in message and "empty" in message
    assert "row 6: 'Atlantis' (unknown municipality name)" in message
    assert "row 2" not in message


@pytest.mark.parametrize(
    ("year", "count"),
    # CBS published number of municipalities on 1 January of each year
    [(2015, 393), (2016, 390), (2017, 388), (2018, 380), (2019, 355), (2020, 355),
     (2021, 352), (2022, 345), (2023, 342), (2024, 342)],
)
def test_register_counts_match_cbs(year, count):
    assert len(codes_valid_in(year)) == count


def test_register_agrees_with_transitions():
    register = load_municipalities().set_index("code")
    transitions = load_transitions()
    # every old code existed the year before the change, every new code exists from the change on
    for column, day_offset in (("old_code", -1), ("new_code", 0)):
        day = transitions["effective"] + pd.Timedelta(days=day_offset)
        entries = register.loc[transitions[column]]
        valid = (entries["valid_from"].to_numpy() <= day.to_numpy()) & (
            entries["valid_to"].isna().to_numpy() | (entries["valid_to"].to_numpy() >= day.to_numpy()))
        assert valid.all(), transitions.loc[~valid, ["effective", column]]
    # a municipality ends exactly on the day before a merger/split that moves all of it away
    gone = transitions[transitions["kind"].isin(["merged", "split"]) & (transitions["old_code"] != transitions["new_code"])]
    full = gone.groupby(["effective", "old_code"])["weight"].sum()
    full = full[full > 0.999].reset_index()
    ends = register.loc[full["old_code"], "valid_to"].to_numpy()
    assert (ends == (full["effective"] - pd.Timedelta(days=1)).to_numpy()).all()
