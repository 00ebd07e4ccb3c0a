"""Trainer module for the minimal penguin pipeline: raw numeric features, no TF Transform."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx import v1 as tfx
from tfx_bsl.public import tfxio

FEATURES = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
LABEL = "species"
SPECIES = ("Adelie", "Chinstrap", "Gentoo")


def _dataset(file_pattern, data_accessor, schema) -> tf.data.Dataset:
    lookup = tf.keras.layers.StringLookup(vocabulary=list(SPECIES), num_oov_indices=0)
    dataset = data_accessor.tf_dataset_factory(
        file_pattern, tfxio.TensorFlowDatasetOptions(batch_size=20, label_key=LABEL), schema
    )
    return dataset.map(
        lambda features, label: (
            {k: tf.cast(features[k], tf.float32) for k in FEATURES},
            lookup(tf.reshape(label, [-1])),
        )
    ).repeat()


def run_fn(fn_args: tfx.components.FnArgs) -> None:
    """Trains a small classifier on the raw numeric features and saves a serving signature."""
    schema = tfx.utils.parse_pbtxt_file(fn_args.schema_path, schema_pb2.Schema())
    inputs = {k: keras.layers.Input(shape=(1,), name=k) for k in FEATURES}
    x = keras.layers.BatchNormalization()(keras.layers.concatenate(list(inputs.values())))
    x = keras.layers.Dense(8, activation="relu")(x)
    model = keras.Model(inputs, keras.layers.Dense(len(SPECIES), activation="softmax")(x))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(
        _dataset(fn_args.train_files, fn_args.data_accessor, schema),
        steps_per_epoch=fn_args.train_steps,
        verbose=0,
    )

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def serve(serialized):
        spec = {k: tf.io.FixedLenFeature([1], tf.float32) for k in FEATURES}
        return {"probabilities": model(tf.io.parse_example(serialized, spec))}

    tf.saved_model.save(model, fn_args.serving_model_dir, signatures={"serving_default": serve})
