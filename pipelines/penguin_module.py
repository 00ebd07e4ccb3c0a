"""Transform and Trainer module for the penguin demo pipeline (a small Keras classifier).

Keras 2 (`tf_keras`) is used because TF Transform's feature layer is a Keras 2 layer.
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from tfx import v1 as tfx
from tfx_bsl.public import tfxio

NUMERIC_FEATURES = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
CATEGORICAL_FEATURES = ("island", "sex")
LABEL = "species"
BATCH_SIZE = 20


def _xf(name: str) -> str:
    return f"{name}_xf"


def preprocessing_fn(inputs):
    """Scales numeric features, maps categorical features and the label to ids."""
    outputs = {_xf(k): tft.scale_to_z_score(inputs[k]) for k in NUMERIC_FEATURES}
    for key in CATEGORICAL_FEATURES:
        outputs[_xf(key)] = tft.compute_and_apply_vocabulary(
            inputs[key], num_oov_buckets=1, vocab_filename=key
        )
    outputs[_xf(LABEL)] = tft.compute_and_apply_vocabulary(inputs[LABEL], vocab_filename=LABEL)
    return outputs


def _build_model(tf_transform_output: tft.TFTransformOutput, hidden_units: int) -> keras.Model:
    inputs, encoded = {}, []
    for key in NUMERIC_FEATURES:
        inputs[_xf(key)] = keras.layers.Input(shape=(1,), name=_xf(key))
        encoded.append(inputs[_xf(key)])
    for key in CATEGORICAL_FEATURES:
        inputs[_xf(key)] = keras.layers.Input(shape=(1,), name=_xf(key), dtype=tf.int64)
        num_tokens = tf_transform_output.vocabulary_size_by_name(key) + 1
        encoded.append(
            keras.layers.CategoryEncoding(num_tokens=num_tokens, output_mode="one_hot")(
                inputs[_xf(key)]
            )
        )
    x = keras.layers.concatenate(encoded)
    x = keras.layers.Dense(hidden_units, activation="relu")(x)
    num_classes = tf_transform_output.vocabulary_size_by_name(LABEL)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    return model


def _dataset(file_pattern, data_accessor, tf_transform_output) -> tf.data.Dataset:
    return data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(batch_size=BATCH_SIZE, label_key=_xf(LABEL)),
        tf_transform_output.transformed_metadata.schema,
    ).repeat()


def _serving_signatures(model: keras.Model, tf_transform_output: tft.TFTransformOutput):
    model.tft_layer = tf_transform_output.transform_features_layer()

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def serve_tf_examples(serialized):
        feature_spec = tf_transform_output.raw_feature_spec()
        feature_spec.pop(LABEL)
        features = model.tft_layer(tf.io.parse_example(serialized, feature_spec))
        features.pop(_xf(LABEL), None)
        return {"probabilities": model(features)}

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def transform_features(serialized):
        feature_spec = tf_transform_output.raw_feature_spec()
        return model.tft_layer(tf.io.parse_example(serialized, feature_spec))

    return {"serving_default": serve_tf_examples, "transform_features": transform_features}


def run_fn(fn_args: tfx.components.FnArgs) -> None:
    """Trains the classifier and saves it with serving and transform signatures."""
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    hidden_units = int((fn_args.custom_config or {}).get("hidden_units", 8))
    model = _build_model(tf_transform_output, hidden_units)
    model.fit(
        _dataset(fn_args.train_files, fn_args.data_accessor, tf_transform_output),
        steps_per_epoch=fn_args.train_steps,
        validation_data=_dataset(fn_args.eval_files, fn_args.data_accessor, tf_transform_output),
        validation_steps=fn_args.eval_steps,
        verbose=0,
    )
    tf.saved_model.save(
        model,
        fn_args.serving_model_dir,
        signatures=_serving_signatures(model, tf_transform_output),
    )
