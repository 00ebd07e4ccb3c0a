"""Type-aware features on real TFDV statistics.

`reviews_run` (pipelines/reviews_pipeline.py on generated reviews) has free text, a 0/1
label, an example weight and a small integer categorical; `tfdv_kinds` runs TFDV itself
on a few examples with a schema that marks an image (bytes), a natural-language and a
categorical integer feature.
"""

from __future__ import annotations

import json
import os
import re
from html import unescape

import pytest

import mct_component as mct
from mct_component.card import validation
from mct_component.render import formatting
from tests.test_render import markdown_html

pytestmark = [pytest.mark.slow, pytest.mark.tf]


@pytest.fixture(scope="module")
def reviews_card(reviews_run):
    (model,) = reviews_run.artifacts("Model")
    return mct.card_from_mlmd(reviews_run.metadata_path, model.id)


@pytest.fixture(scope="module")
def reviews_stats(reviews_run):
    """Split -> feature -> its TFDV FeatureNameStatistics, read by TFDV."""
    import tensorflow_data_validation as tfdv

    (statistics,) = reviews_run.artifacts("ExampleStatistics")
    found = {}
    for split in ("train", "eval"):
        path = os.path.join(statistics.uri, f"Split-{split}", "FeatureStats.pb")
        (dataset,) = tfdv.load_stats_binary(path).datasets
        found[split] = {f.path.step[0]: f for f in dataset.features}
    return found


def features(model_card, split):
    (found,) = [d for d in model_card.datasets if d.name == split]
    return {f.name: f for f in found.features}


@pytest.mark.parametrize("split", ["train", "eval"])
def test_free_text_is_described_by_lengths_and_examples(reviews_card, reviews_stats, split):
    text = features(reviews_card, split)["text"]
    stats = reviews_stats[split]["text"].string_stats
    assert text.kind == "free_text" and text.chart is None
    assert text.avg_length == pytest.approx(stats.avg_length)
    assert text.unique == stats.unique
    assert text.unique_ratio == pytest.approx(stats.unique / stats.common_stats.tot_num_values)
    assert [t.value for t in text.top_values] == [v.value for v in stats.top_values][:10]


def test_small_integer_categoricals_get_bars_per_value(reviews_card, reviews_stats):
    train = features(reviews_card, "train")
    rows = reviews_stats["train"]
    for name in ("label", "stars"):
        feature = train[name]
        assert feature.kind == "categorical"
        assert feature.chart.kind == "bar_chart"
        # The chart's bars and the table's top values: the same values, the same order.
        assert [(b.label, b.value) for b in feature.chart.bars] == [
            (t.value, t.frequency) for t in feature.top_values
        ]
        assert (
            sum(t.frequency for t in feature.top_values)
            == rows[name].num_stats.common_stats.num_non_missing
        )
    assert sorted(t.value for t in train["stars"].top_values) == ["1", "2", "3", "4", "5"]
    assert train["weight"].kind == "numeric" and train["weight"].chart.kind == "histogram"


def test_label_and_weight_are_marked_from_the_eval_config(reviews_card, reviews_run):
    (evaluation,) = reviews_run.artifacts("ModelEvaluation")
    with open(os.path.join(evaluation.uri, "eval_config.json")) as f:
        (spec,) = json.load(f)["evalConfig"]["modelSpecs"]
    for split in ("train", "eval"):
        roles = {n: f.role for n, f in features(reviews_card, split).items() if f.role}
        assert roles == {spec["labelKey"]: "label", spec["exampleWeightKey"]: "weight"}


def test_rendered_cards_show_kinds_in_one_line_cells(reviews_card, reviews_run):
    outputs = mct.render_card(reviews_card, ("json", "html", "md"))
    md = outputs["model_card.md"]
    html = outputs["model_card.html"]
    validation.validate_card_dict(json.loads(outputs["model_card.json"]))
    # Markdown: the free-text row is one line, short, without the data's markup.
    (row, _) = [line for line in md.splitlines() if line.startswith("| text | STRING free")]
    assert "free text" in row and "average" in row and "% unique" in row and "e.g." in row
    assert len(row) < 400 and "<br" not in row and "&lt;br" not in row
    # Markdown's label section: class balance per split, from the statistics.
    train = features(reviews_card, "train")["label"]
    total = sum(t.frequency for t in train.top_values)
    shares = ", ".join(
        f"{t.value}: {t.frequency:g} ({t.frequency / total:.0%})" for t in train.top_values
    )
    assert f"| train | {shares} |" in md
    assert "| label (label) |" in md and "| weight (weight) |" in md
    # HTML: each example one short line, the whole value in its title; no frequency chart.
    block = re.search(r"<details><summary>text .*?</details>", html).group(0)
    assert "<svg" not in block and 'class="text"' in block
    shown = re.findall(r'<span title="([^"]*)">([^<]*)</span>', block)
    assert len(shown) == 6  # three examples in each of two splits
    for title, text in shown:
        assert "\n" not in title and len(unescape(text)) <= formatting.TEXT_EXAMPLE_CHARS
        assert unescape(title).startswith(unescape(text).rstrip("…"))
    assert '<span class="badge">label</span>' in html and f"{shares}" in unescape(html)
    for text in (unescape(html), markdown_html(md)):
        assert "Label: label" in text
    readme = mct.export_card(reviews_card, "hf").text
    assert "Label `label`, class balance per split" in readme and f"| train | {shares} |" in readme


@pytest.fixture(scope="module")
def tfdv_kinds(tmp_path_factory):
    """Statistics TFDV computes, with a schema, on examples with an image (bytes), a
    natural-language comment, a categorical integer code and hostile strings."""
    import tensorflow as tf
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import schema_pb2

    folder = tmp_path_factory.mktemp("kinds")
    records = str(folder / "examples.tfrecord")
    with tf.io.TFRecordWriter(records) as writer:
        for i in range(60):
            image = bytes([0x89, 0x50, 0x4E, 0x47, 0xFF, 0xFE]) + bytes(range(i % 40))
            comment = ["ok", "fine", "bad", "ok\x1b[31m <script>x</script>"][i % 4]
            example = tf.train.Example(
                features=tf.train.Features(
                    feature={
                        "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[image])),
                        "comment": tf.train.Feature(
                            bytes_list=tf.train.BytesList(value=[comment.encode()])
                        ),
                        "code": tf.train.Feature(
                            int64_list=tf.train.Int64List(value=[100 + i % 3 * 50])
                        ),
                    }
                )
            )
            writer.write(example.SerializeToString())
    schema = schema_pb2.Schema()
    schema.feature.add(name="image", type=schema_pb2.BYTES).image_domain.SetInParent()
    schema.feature.add(name="comment", type=schema_pb2.BYTES).natural_language_domain.SetInParent()
    schema.feature.add(name="code", type=schema_pb2.INT).int_domain.is_categorical = True
    options = tfdv.StatsOptions(schema=schema)
    stats = tfdv.generate_statistics_from_tfrecord(records, stats_options=options)
    split = folder / "statistics" / "Split-train"
    split.mkdir(parents=True)
    (split / "FeatureStats.pb").write_bytes(stats.SerializeToString())
    tfdv.write_schema_text(schema, str(folder / "schema.pbtxt"))
    (folder / "model").mkdir()
    return folder, {f.path.step[0]: f for f in stats.datasets[0].features}


def test_bytes_natural_language_and_schema_categoricals(tfdv_kinds):
    folder, stats = tfdv_kinds
    model_card = mct.card_from_files(
        str(folder / "model"),
        statistics=str(folder / "statistics" / "Split-train" / "FeatureStats.pb"),
        schema=str(folder / "schema.pbtxt"),
    )
    found = features(model_card, "train")
    image = found["image"]
    raw = stats["image"].bytes_stats
    assert image.kind == "bytes" and image.chart is None
    assert (image.avg_length, image.min_length, image.max_length) == (
        pytest.approx(raw.avg_num_bytes),
        raw.min_num_bytes,
        raw.max_num_bytes,
    )
    assert image.unique == raw.unique
    # The schema's natural-language domain makes free text, however few its values.
    assert found["comment"].kind == "free_text" and found["comment"].chart is None
    code = found["code"]
    assert code.kind == "categorical" and code.chart.kind == "bar_chart"
    assert [t.value for t in code.top_values] == [b.label for b in code.chart.bars]
    outputs = mct.render_card(model_card, ("html", "md"))
    md, html = outputs["model_card.md"], outputs["model_card.html"]
    assert "| image | BYTES bytes |" in md and f"{raw.max_num_bytes:g})" in md
    assert "\x1b" not in md and "\x1b" not in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    (row,) = [line for line in md.splitlines() if line.startswith("| comment | STRING free")]
    assert "<script>" not in row and "&lt;script&gt;" in row
