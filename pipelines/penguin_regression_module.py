"""Trainer module of the regression pipeline: penguins' body mass (and flipper length).

`run_fn` trains one regression output, body mass in grams, from the bill measurements
and flipper length; with `custom_config={"two_outputs": True}` a second output predicts
flipper length from the bill measurements, so TFMA reports its metrics per output name.
"""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx import v1 as tfx
from tfx_bsl.public import tfxio

# Feature -> (centre, scale): standardised inputs train in a few steps.
SCALES = {
    "bill_length_mm": (44.0, 5.5),
    "bill_depth_mm": (17.0, 2.0),
    "flipper_length_mm": (200.0, 14.0),
}
MASS = ("body_mass_g", 4200.0, 800.0)
FLIPPER = ("flipper_length_mm", 200.0, 14.0)


def _inputs(two_outputs: bool) -> tuple[str, ...]:
    names = ("bill_length_mm", "bill_depth_mm")
    return names if two_outputs else (*names, "flipper_length_mm")


def _scaled(features, names):
    return tf.concat(
        [(tf.cast(features[n], tf.float32) - SCALES[n][0]) / SCALES[n][1] for n in names], axis=1
    )


def _dataset(file_pattern, data_accessor, schema, two_outputs: bool) -> tf.data.Dataset:
    dataset = data_accessor.tf_dataset_factory(
        file_pattern, tfxio.TensorFlowDatasetOptions(batch_size=20), schema
    )
    names = _inputs(two_outputs)

    def split(features):
        targets = {"body_mass": (tf.cast(features[MASS[0]], tf.float32) - MASS[1]) / MASS[2]}
        if two_outputs:
            targets["flipper"] = (tf.cast(features[FLIPPER[0]], tf.float32) - FLIPPER[1]) / FLIPPER[
                2
            ]
        return _scaled(features, names), targets

    return dataset.map(split).repeat()


def run_fn(fn_args: tfx.components.FnArgs) -> None:
    """Trains the regression and saves a serving signature over serialized examples."""
    two_outputs = bool((fn_args.custom_config or {}).get("two_outputs"))
    schema = tfx.utils.parse_pbtxt_file(fn_args.schema_path, schema_pb2.Schema())
    names = _inputs(two_outputs)
    inputs = keras.layers.Input(shape=(len(names),))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    outputs = {"body_mass": keras.layers.Dense(1, name="body_mass")(hidden)}
    if two_outputs:
        outputs["flipper"] = keras.layers.Dense(1, name="flipper")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    model.fit(
        _dataset(fn_args.train_files, fn_args.data_accessor, schema, two_outputs),
        steps_per_epoch=fn_args.train_steps,
        verbose=0,
    )

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def serve(serialized):
        spec = {
            n: tf.io.FixedLenFeature([1], tf.int64 if n == "flipper_length_mm" else tf.float32)
            for n in names
        }
        predicted = model(_scaled(tf.io.parse_example(serialized, spec), names))
        result = {"body_mass": predicted["body_mass"] * MASS[2] + MASS[1]}
        if two_outputs:
            result["flipper"] = predicted["flipper"] * FLIPPER[2] + FLIPPER[1]
        return result

    tf.saved_model.save(model, fn_args.serving_model_dir, signatures={"serving_default": serve})
