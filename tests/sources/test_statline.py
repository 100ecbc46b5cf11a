"""StatLine as published (issue 12): declared dimensions, fixed years, percentages, layouts, OData v3/v4.

Fixtures in tests/fixtures/statline reproduce the published layouts with illustrative numbers (see its
README); every expected value is recomputed here from the raw file with plain pandas.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from effectmeting.errors import InputError
from effectmeting.harmonise.pipeline import harmonise
from effectmeting.sources.cbs import fetch_statline
from effectmeting.sources.readers import read_table
from effectmeting.sources.sources_toml import specs_from_entries
from effectmeting.sources.statline_declaration import Percentage, StatlineDeclaration, parse_declaration

FIXTURES = Path(__file__).parents[1] / "fixtures" / "statline"
BANDS_0_17 = ("70100", "70200", "70300", "11500", "11600", "11700")
POPULATION = StatlineDeclaration(
    dimensions={"Geslacht": "T001038", "BurgerlijkeStaat": "T001019",
                "Leeftijd": {"population_total": "10000", "population_0_17": BANDS_0_17}},
    measures=("BevolkingOp1Januari_1",))


def raw(name: str, sep: str = ";") -> pd.DataFrame:
    """The fixture as text cells, stripped, with its line numbers (header = line 1): the independent reference."""
    frame = pd.read_csv(FIXTURES / name, sep=sep, dtype=str, keep_default_na=False).apply(lambda c: c.str.strip())
    return frame.assign(source_row=range(2, len(frame) + 2))


def test_03759ned_keep_one_sex_sum_age_bands():
    frame = read_table(FIXTURES / "03759ned_untyped.csv", format="cbs_statline", statline=POPULATION)
    cells = raw("03759ned_untyped.csv")
    chosen = cells[(cells["Geslacht"] == "T001038") & cells["RegioS"].str.startswith("GM")]
    total = chosen[chosen["Leeftijd"] == "10000"].set_index(["RegioS", "Perioden"])["BevolkingOp1Januari_1"]
    bands = chosen[chosen["Leeftijd"].isin(BANDS_0_17)]
    numbers = pd.to_numeric(bands["BevolkingOp1Januari_1"], errors="coerce")
    young = numbers.groupby([bands["RegioS"], bands["Perioden"]]).sum(min_count=1).where(
        ~numbers.isna().groupby([bands["RegioS"], bands["Perioden"]]).any())
    got = frame.set_index(["RegioS", "year"]).sort_index()
    for (region, period), value in total.items():
        assert got.loc[(region, int(period[:4])), "population_total"] == int(value)
    for (region, period), value in young.items():
        cell = got.loc[(region, int(period[:4])), "population_0_17"]
        assert (pd.isna(cell) and pd.isna(value)) or cell == value
    # Groningen 2022 has a secret band (x): its 0-17 sum is unknown, with the marker kept, never a partial sum.
    assert pd.isna(got.loc[("GM0014", 2022), "population_0_17"])
    assert got.loc[("GM0014", 2022), "population_0_17__marker"] == "secret"
    assert not {"Geslacht", "Leeftijd", "BurgerlijkeStaat", "GemiddeldeBevolking_2"} & set(frame.columns)
    # Every input row has one fate: carried a result, summed into one, or set aside (men, 18 jaar, NL01).
    set_aside, folded = frame.attrs["set_aside"], frame.attrs["folded"]
    assert len(frame) + len(set_aside) + len(folded) == len(cells)
    assert sorted([*frame["source_row"], *set_aside["source_row"], *folded["source_row"]]) == cells["source_row"].tolist()
    assert set(folded["into_row"]) <= set(frame["source_row"])
    assert set_aside["reason"].str.contains("Geslacht = '3000' is not a declared value").sum() == 8 * 2 * 2
    # 18 jaar is declared nowhere: set aside for the kept sex in both municipalities and both years.
    assert set_aside["reason"].str.contains("Leeftijd = '11800' is not a declared value").sum() == 2 * 2


def test_undeclared_dimension_is_refused_with_its_values_and_an_example():
    declaration = StatlineDeclaration(dimensions={"Leeftijd": "10000", "BurgerlijkeStaat": "T001019"})
    with pytest.raises(InputError) as raised:
        read_table(FIXTURES / "03759ned_untyped.csv", format="cbs_statline", statline=declaration)
    message = str(raised.value)
    assert raised.value.reason == "undeclared_dimension"
    assert "03759ned_untyped.csv, row 2, column 'Geslacht', value 'T001038'" in message
    assert "'T001038' (48 rows), '3000' (48 rows)" in message
    assert 'Geslacht = \'T001038\'   # keep one value' in message
    assert len(message) < 1000  # one paragraph, as the bad-input catalogue asks


def test_declared_value_absent_and_incomplete_sum_are_refused(tmp_path):
    typo = StatlineDeclaration(dimensions={**POPULATION.dimensions, "Geslacht": "T001039"},
                               measures=POPULATION.measures)
    with pytest.raises(InputError, match=r"column 'Geslacht': declared value\(s\) 'T001039' do not occur"):
        read_table(FIXTURES / "03759ned_untyped.csv", format="cbs_statline", statline=typo)
    lines = (FIXTURES / "03759ned_untyped.csv").read_text().splitlines()
    cut = [line for line in lines if not ('"70200"' in line and '"GM0363  "' in line and '"2023JJ00"' in line)]
    path = tmp_path / "cut.csv"
    path.write_text("\n".join(cut) + "\n")
    with pytest.raises(InputError, match=r"region GM0363 year 2023 has 5 row\(s\) for column 'population_0_17' "
                                         r"where the declaration names 6") as raised:
        read_table(path, format="cbs_statline", statline=POPULATION)
    assert raised.value.reason == "incomplete_sum"


def test_85039ned_fixed_year_and_wijken_buurten_set_aside():
    with pytest.raises(InputError, match=r"no period column .* year = 2021") as raised:
        read_table(FIXTURES / "85039NED_untyped.csv", format="cbs_statline")
    assert raised.value.reason == "no_period_column"
    frame = read_table(FIXTURES / "85039NED_untyped.csv", format="auto", statline=StatlineDeclaration(year=2021),
                       columns={"WijkenEnBuurten": "municipality", "AantalInwoners_5": "population_total"})
    cells = raw("85039NED_untyped.csv")
    municipal = cells[cells["SoortRegio_2"] == "Gemeente"]
    assert frame[["municipality", "year", "population_total"]].values.tolist() == [
        [code, 2021, int(n)] for code, n in zip(municipal["WijkenEnBuurten"], municipal["AantalInwoners_5"])]
    reasons = dict(zip(frame.attrs["set_aside"]["region"], frame.attrs["set_aside"]["reason"]))
    assert reasons == {"NL00": "country, not a municipality",
                       "WK001400": "wijk (district), below municipality level",
                       "BU00140000": "buurt (neighbourhood), below municipality level",
                       "WK036300": "wijk (district), below municipality level"}


def test_85098ned_percentages_become_counts_and_half_years_are_set_aside():
    declaration = StatlineDeclaration(percentages=(Percentage(
        column="JongerenMetJeugdzorgInNaturaRelatief_3", denominator="JongerenTot18Jaar_1", per=100,
        count="youth_with_jeugdhulp"),), measures=("JongerenTot18Jaar_1",))
    frame = read_table(FIXTURES / "85098NED_untyped.csv", format="cbs_statline", statline=declaration)
    cells = raw("85098NED_untyped.csv")
    years = cells[cells["RegioS"].str.startswith("GM") & cells["Perioden"].str.endswith("JJ00")]
    pct = pd.to_numeric(years["JongerenMetJeugdzorgInNaturaRelatief_3"], errors="coerce")
    expected = (pct * pd.to_numeric(years["JongerenTot18Jaar_1"]) / 100).round()
    assert frame["source_row"].tolist() == years["source_row"].tolist()
    got = frame["youth_with_jeugdhulp"].astype("Float64")
    assert got.isna().tolist() == expected.isna().tolist()
    assert got.dropna().tolist() == expected.dropna().tolist()
    assert frame["youth_with_jeugdhulp__marker"].tolist()[-1] == "secret"
    assert "JongerenMetJeugdzorgInNaturaRelatief_3" not in frame.columns
    aside = frame.attrs["set_aside"]
    assert aside.loc[aside["source_row"] == 5, "reason"].item().startswith("period '2023HJ01' is a half year")
    assert len(frame) + len(aside) == len(cells)


def test_web_portal_export_english_names_comma_title_and_footer():
    frame = read_table(FIXTURES / "03759eng_portal.csv", statline=StatlineDeclaration(
        dimensions={"Sex": "T001038", "Age": "10000", "MaritalStatus": "T001019"}))
    assert frame[["Regions", "year", "PopulationOn1January_1"]].values.tolist() == [
        ["GM0014", 2023, 238147], ["GM0363", 2023, 918117]]
    assert frame["source_row"].tolist() == [3, 4]  # physical lines: title 1, header 2
    assert frame.attrs["title_lines"] == ['"Population; sex, age and marital status, 1 January"']
    assert frame.attrs["footer_lines"][0] == '"Source: CBS"' and len(frame.attrs["footer_lines"]) == 2
    assert frame.attrs["set_aside"]["reason"].tolist() == [
        "province, not a municipality",
        "period '2023MM01' is a month, not a calendar year (JJ); effectmeting reads years"]


class RecordedService:
    """Stands in for StatLine's OData services: answers recorded JSON by URL and logs the URLs asked for."""

    def __init__(self, answers: dict[str, dict]):
        self.answers, self.urls = answers, []

    def get_json(self, url: str) -> dict:
        self.urls.append(url)
        for prefix, answer in self.answers.items():
            if url.startswith(prefix):
                return answer
        raise AssertionError(f"unexpected URL {url}")


def test_fetch_v3_passes_filters_select_and_catalog_and_keeps_metadata(tmp_path):
    base = "https://dataderden.cbs.nl/ODataApi/odata/40061NED"
    service = RecordedService({
        f"{base}/UntypedDataSet": {"value": [
            {"ID": 0, "Geslacht": "T001038", "RegioS": "GM0363  ", "Perioden": "2022JJ00", "Bedrag_1": "  1234"},
            {"ID": 1, "Geslacht": "T001038", "RegioS": "GM0363  ", "Perioden": "2022KW01", "Bedrag_1": "   300"}]},
        f"{base}/Geslacht": {"value": [{"Key": "T001038", "Title": "Totaal mannen en vrouwen"}]},
        f"{base}/DataProperties": {"value": [
            {"Key": "Geslacht", "Title": "Geslacht", "Type": "Dimension"},
            {"Key": "RegioS", "Title": "Regio's", "Type": "GeoDimension"},
            {"Key": "Bedrag_1", "Title": "Bedrag", "Unit": "1 000 euro", "Decimals": 0, "Type": "Topic"}]}})
    frame = fetch_statline("40061NED", cache_dir=tmp_path, client=service, catalog="dataderden.cbs.nl",
                           filters="RegioS eq 'GM0363'", select=["Geslacht", "RegioS", "Perioden", "Bedrag_1"],
                           declaration=StatlineDeclaration(dimensions={"Geslacht": "T001038"}))
    assert service.urls[0] == (f"{base}/UntypedDataSet?$format=json&$filter=RegioS+eq+'GM0363'"
                               "&$select=Geslacht,RegioS,Perioden,Bedrag_1")
    assert frame[["RegioS", "year", "Bedrag_1"]].values.tolist() == [["GM0363", 2022, 1234]]
    assert frame.attrs["set_aside"]["reason"].str.contains("a quarter").all()
    assert frame.attrs["statline"]["metadata"]["measures"] == [
        {"key": "Bedrag_1", "title": "Bedrag", "unit": "1 000 euro", "decimals": 0, "type": "Topic"}]
    assert frame.attrs["statline"]["metadata"]["labels"] == {"Geslacht": {"T001038": "Totaal mannen en vrouwen"}}
    cached = list(tmp_path.glob("40061NED-*.json"))
    assert len(cached) == 1 and json.loads(cached[0].read_text())["catalog"] == "dataderden.cbs.nl"


class PagedService(RecordedService):
    """Answers the observations page by page (``@odata.nextLink``), the metadata by URL."""

    def __init__(self, pages, answers: dict[str, dict]):
        super().__init__(answers)
        self.pages = pages

    def get_json(self, url: str) -> dict:
        if "/Observations" in url:
            self.urls.append(url)
            return next(self.pages)
        return super().get_json(url)


def test_fetch_v4_observations_become_columns_with_markers(tmp_path):
    base = "https://odata4.cbs.nl/CBS/85098NED"
    observations = [
        {"Id": 0, "Measure": "M001", "ValueAttribute": "None", "Value": 37400.0, "RegioS": "GM0014", "Perioden": "2022JJ00"},
        {"Id": 1, "Measure": "M002", "ValueAttribute": "None", "Value": 12.3, "RegioS": "GM0014", "Perioden": "2022JJ00"},
        {"Id": 2, "Measure": "M001", "ValueAttribute": "None", "Value": 152900.0, "RegioS": "GM0363", "Perioden": "2022JJ00"},
        {"Id": 3, "Measure": "M002", "ValueAttribute": "Confidential", "Value": None, "RegioS": "GM0363", "Perioden": "2022JJ00"},
    ]
    pages = iter([{"value": observations[:2], "@odata.nextLink": f"{base}/Observations?$skip=2"},
                  {"value": observations[2:]}])
    service = PagedService(pages, {
        f"{base}/MeasureCodes": {"value": [
            {"Identifier": "M001", "Title": "Jongeren tot 18 jaar", "Unit": "aantal", "Decimals": 0},
            {"Identifier": "M002", "Title": "Jongeren met jeugdzorg", "Unit": "%", "Decimals": 1}]},
        f"{base}/Dimensions": {"value": [{"Identifier": "RegioS", "Title": "Regio's", "Kind": "GeoDimension"},
                                         {"Identifier": "Perioden", "Title": "Perioden", "Kind": "TimeDimension"}]}})
    declaration = StatlineDeclaration(percentages=(Percentage("M002", "M001", 100, "youth_with_jeugdhulp"),))
    frame = fetch_statline("85098NED", cache_dir=tmp_path, client=service, odata=4,
                           filters="startswith(RegioS,'GM')", declaration=declaration)
    assert service.urls[:2] == [f"{base}/Observations?$filter=startswith(RegioS,'GM')", f"{base}/Observations?$skip=2"]
    assert frame[["RegioS", "year", "M001"]].values.tolist() == [["GM0014", 2022, 37400], ["GM0363", 2022, 152900]]
    assert frame["youth_with_jeugdhulp"].tolist()[0] == round(37400 * 12.3 / 100)
    assert pd.isna(frame["youth_with_jeugdhulp"].tolist()[1])
    assert frame["youth_with_jeugdhulp__marker"].tolist()[1] == "secret"
    assert frame.attrs["statline"]["metadata"]["measures"][1]["unit"] == "%"


def test_manifest_declarations_are_checked(tmp_path):
    (tmp_path / "t.csv").write_text("a\n1\n")
    base = {"name": "p", "path": "t.csv", "table": "outcomes", "format": "cbs_statline"}
    with pytest.raises(InputError, match=r"percentages.Pct_2 needs a denominator") as raised:
        specs_from_entries([{**base, "percentages": {"Pct_2": {"per": 100}}}], base=tmp_path, where="s.toml")
    assert raised.value.reason == "percentage_without_denominator"
    with pytest.raises(InputError, match=r"year = '2021' must be a whole year"):
        specs_from_entries([{**base, "year": "2021"}], base=tmp_path, where="s.toml")
    with pytest.raises(InputError, match=r"format 'csv_nl' is not one"):
        specs_from_entries([{**base, "format": "csv_nl", "year": 2021}], base=tmp_path, where="s.toml")
    with pytest.raises(InputError, match=r"Leeftijd and Geslacht both name output columns"):
        parse_declaration({"dimensions": {"Leeftijd": {"a": "1"}, "Geslacht": {"b": "2"}}}, "s.toml")


def test_harmonise_from_declarations_audit_counts_equal_input_rows(tmp_path):
    manifest = tmp_path / "sources.toml"
    manifest.write_text(f"""
[[source]]
name = "population"
path = "{FIXTURES / '03759ned_untyped.csv'}"
table = "population"
format = "cbs_statline"
measures = ["BevolkingOp1Januari_1"]
[source.columns]
RegioS = "municipality"
[source.dimensions]
Geslacht = "T001038"
BurgerlijkeStaat = "T001019"
[source.dimensions.Leeftijd]
population_total = "10000"
population_0_17 = {json.dumps(list(BANDS_0_17))}

[[source]]
name = "youth care"
path = "{FIXTURES / '85098NED_untyped.csv'}"
table = "outcomes"
format = "cbs_statline"
measures = ["JongerenTot18Jaar_1"]
[source.columns]
RegioS = "municipality"
[source.percentages.JongerenMetJeugdzorgInNaturaRelatief_3]
denominator = "JongerenTot18Jaar_1"
per = 100
count = "youth_with_jeugdhulp"

[[source]]
name = "own"
path = "own.csv"
table = "population"
format = "csv_nl"
[source.columns]
gemeente = "municipality"
jaar = "year"
inwoners = "population_total"
""", encoding="utf-8")
    # Wijk, buurt and province rows are set aside in every reader, not only StatLine's (a Dutch CSV here).
    (tmp_path / "own.csv").write_text("gemeente;jaar;inwoners\nGM0363;2021;872757\nWK036300;2021;9740\n"
                                      "BU03630000;2021;1100\nPV27;2021;2900000\nGM0014;2021;233273\n", encoding="utf-8")
    panel = harmonise(manifest)
    summary = panel.audit.frame.groupby("source")["source_row"].nunique()
    assert summary.to_dict() == {"population": len(raw("03759ned_untyped.csv")),
                                 "youth care": len(raw("85098NED_untyped.csv")), "own": 5}
    own = panel.audit.frame.query("source == 'own'").set_index("source_row")
    assert own.loc[[3, 4, 5], "action"].tolist() == ["set_aside"] * 3
    assert own.loc[3, "reason"] == "set aside by the reader: wijk (district), below municipality level"
    assert "set_aside" not in own.loc[[2, 6], "action"].tolist()
    assert panel.data.set_index(["municipality", "year"]).loc[("GM0014", 2021), "population_total"] == 233273
    merged = panel.audit.frame.query("source == 'population' and action == 'merged'")
    folded = merged[merged["reason"].str.startswith("read into row ")]
    assert len(folded) == len(read_table(FIXTURES / "03759ned_untyped.csv", format="cbs_statline",
                                         statline=POPULATION).attrs["folded"]) > 0
    row = panel.data.set_index(["municipality", "year"]).loc[("GM0014", 2023)]
    assert row["youth_with_jeugdhulp"] == round(37600 * 12.7 / 100)
    statline = {s["name"]: s.get("statline") for s in panel.sources}
    assert statline["population"]["declaration"]["dimensions"]["Geslacht"] == "T001038"


YOUTH_CARE_FROM_POPULATION = """
[[source]]
name = "youth care"
path = "{youth}"
table = "outcomes"
format = "cbs_statline"
measures = ["JongerenMetJeugdzorgInNaturaRelatief_3"]
[source.columns]
RegioS = "municipality"
[source.percentages.JongerenMetJeugdzorgInNaturaRelatief_3]
denominator = "population:population_0_17"
per = 100
count = "youth_with_jeugdhulp"

[[source]]
name = "population"
path = "{population}"
table = "population"
format = "{format}"
{population_extra}
"""


def test_percentage_with_its_denominator_from_the_population_source(tmp_path):
    population = tmp_path / "bevolking.csv"
    population.write_text("gemeente;jaar;inwoners;jeugd\nGM0014;2022;234649;37400\nGM0014;2023;235650;37600\n"
                          "GM0363;2022;882633;152300\nGM0363;2023;883634;152900\n", encoding="utf-8")
    manifest = tmp_path / "sources.toml"
    manifest.write_text(YOUTH_CARE_FROM_POPULATION.format(
        youth=FIXTURES / "85098NED_untyped.csv", population=population, format="csv_nl",
        population_extra='[source.columns]\ngemeente = "municipality"\njaar = "year"\ninwoners = "population_total"\n'
                         'jeugd = "population_0_17"'), encoding="utf-8")
    panel = harmonise(manifest)
    cells = raw("85098NED_untyped.csv").set_index(["RegioS", "Perioden"])
    row = panel.data.set_index(["municipality", "year"]).loc[("GM0014", 2022)]
    assert row["youth_with_jeugdhulp"] == round(float(cells.loc[("GM0014", "2022JJ00"),
                                                                 "JongerenMetJeugdzorgInNaturaRelatief_3"]) * 37400 / 100)
    notes = panel.audit.events.query("source == 'youth care'")["detail"]
    assert notes.str.contains("x population population_0_17 / 100, rounded to whole persons").any()
    assert panel.audit.frame.groupby("source")["source_row"].nunique()["youth care"] == len(cells)


def test_percentage_whose_population_denominator_is_unknown_is_refused(tmp_path):
    manifest = tmp_path / "sources.toml"
    dimensions = ('measures = ["BevolkingOp1Januari_1"]\n[source.columns]\nRegioS = "municipality"\n'
                  '[source.dimensions]\nGeslacht = "T001038"\nBurgerlijkeStaat = "T001019"\n'
                  f'[source.dimensions.Leeftijd]\npopulation_total = "10000"\npopulation_0_17 = {json.dumps(list(BANDS_0_17))}')
    manifest.write_text(YOUTH_CARE_FROM_POPULATION.format(
        youth=FIXTURES / "85098NED_untyped.csv", population=FIXTURES / "03759ned_untyped.csv",
        format="cbs_statline", population_extra=dimensions), encoding="utf-8")
    # Groningen's 2022 population 0-17 is unknown (a secret age band): the count cannot be formed.
    with pytest.raises(InputError, match=r"85098NED_untyped.csv, row 3, column 'JongerenMetJeugdzorgInNaturaRelatief_3',"
                                         r" value 12.3: no population_0_17 for GM0014 2022") as raised:
        harmonise(manifest)
    assert raised.value.reason == "percentage_without_denominator" and len(str(raised.value)) < 1000


def test_a_value_in_two_entries_counts_in_both_and_every_row_keeps_one_fate():
    dimensions = dict(POPULATION.dimensions)
    dimensions["Leeftijd"] = {**dimensions["Leeftijd"], "population_0_4": "70100"}
    frame = read_table(FIXTURES / "03759ned_untyped.csv", format="cbs_statline",
                       statline=StatlineDeclaration(dimensions=dimensions, measures=POPULATION.measures))
    cells = raw("03759ned_untyped.csv")
    band = cells[(cells["Geslacht"] == "T001038") & (cells["Leeftijd"] == "70100") & cells["RegioS"].str.startswith("GM")]
    got = frame.set_index(["RegioS", "year"])["population_0_4"]
    assert [got.loc[(r, int(p[:4]))] for r, p in zip(band["RegioS"], band["Perioden"])] == band[
        "BevolkingOp1Januari_1"].astype(int).tolist()
    fates = [*frame["source_row"], *frame.attrs["set_aside"]["source_row"], *frame.attrs["folded"]["source_row"]]
    assert sorted(fates) == cells["source_row"].tolist()
