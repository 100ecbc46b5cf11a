"""Normalise municipality identifiers to the CBS form ``GM0363``.

Accepted: ``GM0363``, ``gm0363``, ``GM363``, ``363``, ``'0363 '``, integer 363 (or 363.0), official
names and common variants (case, diacritics, apostrophes, hyphens, ``(NH.)``-style suffixes,
``Den Bosch`` / ``'s-Hertogenbosch``, ``Den Haag`` / ``'s-Gravenhage``).  Every distinct value is
resolved once (a handful of string operations over the unique values), then mapped onto the rows.
"""
from __future__ import annotations


import numpy as np
import pandas as pd

from effectmeting.errors import HarmonisationError, echo
from effectmeting.harmonise.memo import Memo, frame_digest
from effectmeting.reference.register import load_municipalities

# Everyday names that differ from the official (CBS) name; keys are already in simplified form.
ALIASES: dict[str, str] = {
    "den bosch": "GM0796",
    "s hertogenbosch": "GM0796",
    "den haag": "GM0518",
    "the hague": "GM0518",
    "s gravenhage": "GM0518",
    "groesbeek": "GM1945",  # the 2015 name of Berg en Dal (same code)
    "nuenen": "GM0820",
    "nuenen ca": "GM0820",
    "nuenen c a": "GM0820",
    "zuidwest friesland": "GM1900",
    "noordoost friesland": "GM1970",
    "de friese meren": "GM1940",
    "tietjerksteradeel": "GM0737",
    "hengelo": "GM0164",
    "middelburg": "GM0687",
    "rijswijk": "GM0603",
    "haarlemmerliede": "GM0393",
    "kollumerland": "GM0079",
    "kollumerland ca": "GM0079",
}

_CODE_PATTERN = r"^(?:GM)?\s*0*(\d{1,4})$"
_LOOKUPS = Memo(max_entries=4)  # simplified name -> candidate codes, per register content


def simplify_name(names: pd.Series) -> pd.Series:
    """Lower-case, strip diacritics, apostrophes, dots and brackets; hyphens and commas to spaces."""
    text = names.astype("string").str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")
    text = text.str.lower().str.replace(r"[\u2019'`´.()]", " ", regex=True)
    text = text.str.replace(r"[-,/]", " ", regex=True).str.replace(r"\s+", " ", regex=True).str.strip()
    # "'s-Hertogenbosch" -> "s hertogenbosch"; "s-Gravenhage" without apostrophe gives the same.
    return text


def _name_lookup(register: pd.DataFrame) -> pd.DataFrame:
    """Simplified name -> code; a simplified name that points at two codes is ambiguous."""
    names = pd.DataFrame({"key": simplify_name(register["name"]), "code": register["code"]})
    # also accept the name without its province suffix when that is unique ("Laren (NH.)" -> "laren")
    stripped = pd.DataFrame(
        {"key": simplify_name(register["name"].str.replace(r"\s*\([^)]*\)\s*$", "", regex=True)),
         "code": register["code"]}
    )
    aliases = pd.DataFrame({"key": list(ALIASES), "code": list(ALIASES.values())})
    table = pd.concat([names, stripped, aliases], ignore_index=True).drop_duplicates()
    table["candidates"] = table.groupby("key")["code"].transform(lambda c: ";".join(sorted(set(c))))
    return table.drop_duplicates("key")[["key", "candidates"]]


def normalise_municipality_code(
    values,
    *,
    register: pd.DataFrame | None = None,
    source_file: str | None = None,
    rows=None,
) -> pd.Series:
    """Return municipality codes in ``GM0363`` form, aligned with ``values``.

    ``values``: a Series (or array-like) of codes, numbers or names.  ``register``: municipality
    register (default: the bundled one, 2015-2024).  ``rows``: row numbers to name in errors
    (e.g. ``frame["source_row"]``; default the Series index).  ``source_file`` is named in errors.

    Raises :class:`HarmonisationError` listing every value that is empty, unknown (code not in the
    register, name not recognised) or ambiguous (a name shared by two municipalities, e.g.
    ``Bergen``: write ``Bergen (NH.)`` or ``Bergen (L.)``), each with its row.
    """
    series = values.copy() if isinstance(values, pd.Series) else pd.Series(values)
    register = load_municipalities() if register is None else register
    row_labels = pd.Series(series.index if rows is None else np.asarray(rows), index=series.index)

    raw_text = series.astype("string")
    # 363.0 from a float column -> "363"; the string work runs once per distinct value, not per row
    raw_unique = pd.Series(pd.unique(raw_text.dropna()), dtype="string")
    cleaned = raw_unique.str.replace(r"^\s*(\d{1,4})\.0+\s*$", r"\1", regex=True).str.strip()
    text = raw_text.map(pd.Series(cleaned.to_numpy(dtype=object), index=raw_unique.to_numpy(dtype=object))
                        ).astype("string")
    unique = pd.Series(pd.unique(text.dropna()), dtype="string")
    resolved = np.full(len(unique), None, dtype=object)
    problem = np.full(len(unique), None, dtype=object)

    digits = unique.str.upper().str.extract(_CODE_PATTERN, expand=False)
    is_code = digits.notna().to_numpy()
    as_code = ("GM" + digits.str.zfill(4)).to_numpy(dtype=object)
    known = pd.Series(as_code).isin(register["code"]).to_numpy()
    resolved[is_code & known] = as_code[is_code & known]
    problem[is_code & ~known] = "code not in the municipality register 2015-2024"

    if (~is_code).any():
        lookup = _LOOKUPS.get(("names", frame_digest(register)),
                              lambda: _name_lookup(register).set_index("key")["candidates"], lambda value: value)
        found_series = simplify_name(unique[~is_code]).map(lookup).astype("string").fillna("")
        found = found_series.to_numpy(dtype=object)
        missing = (found_series == "").to_numpy()
        ambiguous = found_series.str.contains(";", regex=False).to_numpy()
        name_resolved = np.where(missing | ambiguous, None, found)
        name_problem = np.where(
            missing, "unknown municipality name",
            np.where(ambiguous,
                     ("ambiguous name, matches " + found_series.str.replace(";", " and ")).to_numpy(dtype=object), None),
        )
        resolved[~is_code] = name_resolved
        problem[~is_code] = name_problem
    resolved = pd.Series(resolved, index=unique.to_numpy(dtype=object), dtype="string")
    problem = pd.Series(problem, index=unique.to_numpy(dtype=object), dtype="string")

    result = text.map(resolved).astype("string")
    bad = result.isna()
    if bad.any():
        reasons = text.map(problem).fillna("empty municipality code")
        listing = "; ".join(
            f"row {r}: {echo(v)} ({why})"
            for r, v, why in zip(row_labels[bad].head(30), series[bad].head(30), reasons[bad].head(30))
        )
        more = f" (and {int(bad.sum()) - 30} more)" if bad.sum() > 30 else ""
        where = f"{source_file}: " if source_file else ""
        raise HarmonisationError(
            f"{where}{int(bad.sum())} municipality value(s) cannot be normalised: {listing}{more}. "
            "Use a CBS code (GM0363 or 363) or the official name; rename or drop these rows in the source."
        )
    return result.rename(series.name)
