"""Person-level microdata (persons x years, millions of rows) to municipality x year panels.

Optional extra ``effectmeting[scale]`` adds DuckDB, which aggregates Parquet files in SQL without
loading them into pandas; without it the same results come from pyarrow + pandas.

- :func:`aggregate_persons`: person-years -> municipality x year counts, rates per 1,000, weighted
  versions, with optional disclosure control and an audit of suppressed cells;
- :func:`suppress_small_cells`: the disclosure rules on their own (see :mod:`.disclosure`);
- :func:`movers`: persons per year who changed municipality since their previous observed year.
"""
from effectmeting.scale.aggregate import BACKENDS, aggregate_persons
from effectmeting.scale.backend_duckdb import duckdb_available
from effectmeting.scale.disclosure import suppress_small_cells
from effectmeting.scale.movers import movers

__all__ = ["BACKENDS", "aggregate_persons", "duckdb_available", "movers", "suppress_small_cells"]
