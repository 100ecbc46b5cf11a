"""DuckDB back end: the same validation and integer sums as :mod:`backend_pandas`, as SQL over the
Parquet files (or a registered DataFrame), so the person-years never pass through Python rows.

SQL text holds only identifiers that :func:`source.check_columns` found in the schema, quoted by
:func:`source.quote_identifier`, and fixed aliases (``i0_count``...); file paths and thresholds are
bound parameters.
"""
from __future__ import annotations

import pandas as pd

from effectmeting.errors import InputError
from effectmeting.scale import checks
from effectmeting.scale.source import PersonYearSource, quote_identifier

EXAMPLES = 5
_FRAME_VIEW = "person_years"  # fixed name under which a DataFrame source is registered


def duckdb_available() -> bool:
    try:
        import duckdb
    except ImportError:
        return False
    return duckdb is not None


def sums_duckdb(source: PersonYearSource, *, person: str, municipality: str, year: str,
                indicators: list[str], weights: str | None) -> pd.DataFrame:
    """Same frame as :func:`backend_pandas.sums_pandas`, computed by DuckDB."""
    import duckdb

    con = duckdb.connect(database=":memory:")
    try:
        if source.frame is not None:
            columns = [person, municipality, year, *indicators] + ([weights] if weights else [])
            con.register(_FRAME_VIEW, source.frame.loc[:, columns])
            table, parameters = _FRAME_VIEW, {}
        else:
            table, parameters = "read_parquet($files, hive_partitioning = false)", {"files": list(source.files)}
        query = _Query(con, table, parameters, label=source.label)
        _validate(query, person=person, municipality=municipality, year=year, indicators=indicators, weights=weights)
        return query.frame(_aggregate_sql(municipality, year, indicators, weights, table))
    except duckdb.Error as error:
        raise InputError(f"{source.label}: DuckDB could not aggregate the person-years ({error}).") from None
    finally:
        con.close()


class _Query:
    """A connection bound to one source relation and its parameters."""

    def __init__(self, con, table: str, parameters: dict, label: str):
        self.con, self.table, self.parameters, self.label = con, table, parameters, label

    def frame(self, sql: str, extra: dict | None = None) -> pd.DataFrame:
        used = {**self.parameters, **(extra or {})}
        # DuckDB refuses unused named parameters, so pass only those the text mentions.
        used = {key: value for key, value in used.items() if f"${key}" in sql}
        return self.con.execute(sql, used).df()


def _number(identifier: str) -> str:
    return f"CAST({identifier} AS DOUBLE)"


def _missing(identifier: str) -> str:
    x = _number(identifier)
    return f"({x} IS NULL OR isnan({x}))"


def _bad_weight(identifier: str) -> str:
    w = _number(identifier)
    return f"({w} IS NULL OR NOT isfinite({w}) OR {w} < 0 OR ({w} > 0 AND {w} < $smallest))"


def _validate(query: _Query, *, person: str, municipality: str, year: str, indicators: list[str],
              weights: str | None) -> None:
    p, m, y = (quote_identifier(name) for name in (person, municipality, year))
    table, label = query.table, query.label
    keys = f"({p} IS NULL OR {m} IS NULL OR {y} IS NULL)"
    counts = [f"count(*) FILTER (WHERE {keys}) AS keys_missing"]
    for j, column in enumerate(indicators):
        x = _number(quote_identifier(column))
        counts.append(f"count(*) FILTER (WHERE NOT {_missing(quote_identifier(column))} AND {x} NOT IN (0, 1)) AS bad_{j}")
    if weights:
        w = quote_identifier(weights)
        counts.append(f"count(*) FILTER (WHERE {_bad_weight(w)}) AS bad_weight")
        counts.append(f"sum({_number(w)}) AS total_weight")
    summary = query.frame(f"SELECT {', '.join(counts)} FROM {table}",
                          {"smallest": checks.SMALLEST_WEIGHT}).iloc[0]
    if summary["keys_missing"] > 0:
        examples = query.frame(f"SELECT {p} AS person, {m} AS municipality, {y} AS year FROM {table} "
                               f"WHERE {keys} LIMIT {EXAMPLES}")
        checks.refuse_missing_keys(examples, int(summary["keys_missing"]), label=label)
    duplicates = query.frame(
        f"WITH d AS (SELECT {p} AS person, {y} AS year, count(*) AS rows FROM {table} GROUP BY ALL "
        f"HAVING count(*) > 1) SELECT person, year, rows, count(*) OVER () AS total FROM d "
        f"ORDER BY person, year LIMIT {EXAMPLES}")
    if len(duplicates):
        checks.refuse_duplicates(duplicates, int(duplicates["total"].iloc[0]), person=person, year=year, label=label)
    for j, column in enumerate(indicators):
        if summary[f"bad_{j}"] > 0:
            c = quote_identifier(column)
            examples = query.frame(f"SELECT {p} AS person, {y} AS year, {c} AS value FROM {table} WHERE NOT "
                                   f"{_missing(c)} AND {_number(c)} NOT IN (0, 1) ORDER BY 1, 2 LIMIT {EXAMPLES}")
            checks.refuse_indicator_values(examples, int(summary[f"bad_{j}"]), column=column, label=label)
    if weights:
        w = quote_identifier(weights)
        if summary["bad_weight"] > 0:
            examples = query.frame(f"SELECT {p} AS person, {y} AS year, {w} AS value FROM {table} "
                                   f"WHERE {_bad_weight(w)} ORDER BY 1, 2 LIMIT {EXAMPLES}",
                                   {"smallest": checks.SMALLEST_WEIGHT})
            checks.refuse_weights(examples, int(summary["bad_weight"]), column=weights, label=label)
        if float(summary["total_weight"]) > checks.LARGEST_TOTAL_WEIGHT:
            checks.refuse_total_weight(float(summary["total_weight"]), column=weights, label=label)


def _aggregate_sql(municipality: str, year: str, indicators: list[str], weights: str | None, table: str) -> str:
    m, y = quote_identifier(municipality), quote_identifier(year)
    parts = [f"{m} AS municipality", f"{y} AS year", "count(*) AS persons"]
    # Same fixed-point rounding as the pandas back end: floor(w * 1e6 + 0.5) in IEEE doubles.
    units = (f"CAST(floor({_number(quote_identifier(weights))} * {float(checks.WEIGHT_UNITS_PER_ONE)!r} + 0.5) AS BIGINT)"
             if weights else None)
    if units:
        parts.append(f"CAST(sum({units}) AS BIGINT) AS w_persons")
    for j, column in enumerate(indicators):
        c = quote_identifier(column)
        parts.append(f"count(*) FILTER (WHERE {_number(c)} = 1) AS i{j}_count")
        parts.append(f"count(*) FILTER (WHERE {_missing(c)}) AS i{j}_missing")
        if units:
            parts.append(f"CAST(coalesce(sum({units}) FILTER (WHERE {_number(c)} = 1), 0) AS BIGINT) AS i{j}_wcount")
            parts.append(f"CAST(coalesce(sum({units}) FILTER (WHERE NOT {_missing(c)}), 0) AS BIGINT) AS i{j}_wobserved")
    return f"SELECT {', '.join(parts)} FROM {table} GROUP BY 1, 2 ORDER BY 1, 2"
