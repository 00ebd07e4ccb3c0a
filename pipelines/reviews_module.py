"""Trainer module of the reviews pipeline: a bag of hashed words over the raw text."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx import v1 as tfx
from tfx_bsl.public import tfxio

LABEL = "label"
BUCKETS = 1000


def _words(text: tf.Tensor) -> tf.Tensor:
    """Each text's words as hashed ids, a ragged batch."""
    words = tf.strings.split(tf.strings.lower(tf.reshape(text, [-1])))
    return tf.ragged.map_flat_values(tf.strings.to_hash_bucket_fast, words, BUCKETS)


def _dataset(file_pattern, data_accessor, schema) -> tf.data.Dataset:
    dataset = data_accessor.tf_dataset_factory(
        file_pattern, tfxio.TensorFlowDatasetOptions(batch_size=20, label_key=LABEL), schema
    )
    return dataset.map(
        lambda features, label: (
            tf.cast(
                tf.sparse.to_indicator(_words(features["text"]).to_sparse(), BUCKETS), tf.float32
            ),
            tf.reshape(tf.cast(label, tf.float32), [-1, 1]),
        )
    ).repeat()


def run_fn(fn_args: tfx.components.FnArgs) -> None:
    """Trains a logistic regression over word hashes; serves probabilities from examples."""
    schema = tfx.utils.parse_pbtxt_file(fn_args.schema_path, schema_pb2.Schema())
    model = keras.Sequential([keras.layers.Dense(1, activation="sigmoid", input_shape=(BUCKETS,))])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(
        _dataset(fn_args.train_files, fn_args.data_accessor, schema),
        steps_per_epoch=fn_args.train_steps,
        verbose=0,
    )

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def serve(serialized):
        parsed = tf.io.parse_example(serialized, {"text": tf.io.FixedLenFeature([1], tf.string)})
        bag = tf.cast(
            tf.sparse.to_indicator(_words(parsed["text"]).to_sparse(), BUCKETS), tf.float32
        )
        return {"probability": model(bag)}

    tf.saved_model.save(model, fn_args.serving_model_dir, signatures={"serving_default": serve})
