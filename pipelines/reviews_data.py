"""A small free-text dataset the project generates: product reviews, a 0/1 label, a weight.

No download: reviews are drawn from fixed word lists with a seeded generator, so every
run writes the same file. Like public review datasets they hold long texts (some over
3,000 characters), HTML line breaks (`<br />`) and markup-like text, and every review
is different, so TFDV's statistics see a free-text feature.
"""

from __future__ import annotations

import csv
import io
import os
import pathlib
import random

COLUMNS = ("text", "stars", "label", "weight")
ROWS = 300
_GOOD = ("wonderful", "great", "moving", "brilliant", "funny", "clever", "warm", "superb")
_BAD = ("dull", "awful", "boring", "clumsy", "weak", "tedious", "flat", "messy")
_FILLER = (
    "the", "film", "plot", "actors", "story", "scene", "ending", "music", "was", "and",
    "but", "really", "very", "a", "bit", "quite", "camera", "dialogue", "characters", "it",
)  # fmt: skip


def review_rows(rows: int = ROWS, seed: int = 20) -> list[dict[str, str]]:
    """The reviews: text, a star rating 1-5, the label (1: positive) and a weight."""
    rng = random.Random(seed)
    result = []
    for i in range(rows):
        positive = rng.random() < 0.4  # an unbalanced label: 40% positive
        tone = _GOOD if positive else _BAD
        # Most reviews are a few sentences; every 25th is very long.
        sentences = rng.randint(2, 8) if i % 25 else rng.randint(150, 200)
        parts = []
        for _ in range(sentences):
            words = [rng.choice(_FILLER) for _ in range(rng.randint(4, 10))]
            words.insert(rng.randrange(len(words)), rng.choice(tone))
            parts.append(" ".join(words).capitalize() + ".")
        text = " ".join(parts)
        if i % 3 == 0:
            text = text.replace(". ", ". <br /><br />", 1)
        if i % 50 == 7:
            text += " <b>*5 | stars*</b> [link](javascript:alert(1))"
        text = f"Review {i}: {text}"
        stars = rng.randint(4, 5) if positive else rng.randint(1, 3)
        result.append(
            {
                "text": text,
                "stars": str(stars),
                "label": "1" if positive else "0",
                "weight": f"{rng.choice((0.5, 1.0, 1.0, 2.0)):.1f}",
            }
        )
    return result


def write_reviews_csv(data_dir: str) -> str:
    """Writes the reviews as `<data_dir>/reviews.csv` (only when its content changes)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(review_rows())
    os.makedirs(data_dir, exist_ok=True)
    path = os.path.join(data_dir, "reviews.csv")
    content = out.getvalue()
    existing = pathlib.Path(path)
    if not existing.exists() or existing.read_text() != content:
        pathlib.Path(path + ".tmp").write_text(content)
        os.replace(path + ".tmp", path)
    return path
