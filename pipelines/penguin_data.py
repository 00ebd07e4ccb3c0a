"""Prepares the raw Palmer penguins table (shipped by PyPI `palmerpenguins`) for CsvExampleGen."""

from __future__ import annotations

import csv
import io
import os
import pathlib
from importlib import resources

COLUMNS = (
    "species",
    "island",
    "bill_length_mm",
    "bill_depth_mm",
    "flipper_length_mm",
    "body_mass_g",
    "sex",
)


def read_raw_penguins() -> list[dict[str, str]]:
    """Returns the rows of the raw penguins table as the package ships it."""
    text = resources.files("palmerpenguins").joinpath("data/penguins.csv").read_text()
    return list(csv.DictReader(io.StringIO(text)))


def write_penguins_csv(data_dir: str) -> str:
    """Writes the penguins table, complete rows only, as `<data_dir>/penguins.csv`.

    The raw table marks missing values with "NA"; CsvExampleGen would read them as
    strings and turn numeric columns into bytes features, so incomplete rows are
    dropped (11 of 344). The file is rewritten only when its content changes, so
    ExampleGen's input fingerprint stays stable between runs.

    Returns:
        The path of the written CSV file.
    """
    rows = [r for r in read_raw_penguins() if all(r[c] not in ("", "NA") for c in COLUMNS)]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    os.makedirs(data_dir, exist_ok=True)
    path = os.path.join(data_dir, "penguins.csv")
    content = out.getvalue()
    existing = pathlib.Path(path)
    if not existing.exists() or existing.read_text() != content:
        pathlib.Path(path + ".tmp").write_text(content)
        os.replace(path + ".tmp", path)
    return path
