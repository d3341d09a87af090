#!/usr/bin/env python3
"""Makes a peer model: one of harbor's HAR networks (tiny, small, base) with only operators
MicroFlow 0.1.3 compiles (CONV_2D, AVERAGE_POOL_2D, per-tensor FULLY_CONNECTED, SOFTMAX),
trained and converted by Keras and TensorFlow's TFLiteConverter, plus test windows and TFLite
Micro's outputs for them.

harbor's models use MAX_POOL_2D, MEAN and a per-channel FULLY_CONNECTED, which MicroFlow
lacks, and a rank-3 input it cannot take. A peer variant keeps the model card's layers,
channels, kernels, parameter count and MACs and changes only what MicroFlow needs; small:
    input [1,1,60,6] → CONV_2D 1×5 16 ReLU → AVERAGE_POOL_2D 1×2 → CONV_2D 1×5 24 ReLU
    → AVERAGE_POOL_2D 1×2 → CONV_2D 1×3 32 ReLU → AVERAGE_POOL_2D 1×10 (global average)
    → FULLY_CONNECTED 8 (per-tensor weights, flattening its input) → SOFTMAX

Data: WISDM 2019 watch recordings (raw accel m/s² + gyro rad/s, rows of the two sensors
paired by index, as models/tools/keras_tools.py reads them), 60-sample windows, 30-sample
hop, small's 8 classes (eating = codes H, I, J, L), small's train and test users.

Run in the TensorFlow virtualenv of docs/int8.md:
    python3 -m venv target/tfvenv
    target/tfvenv/bin/pip install tensorflow-cpu numpy tflite-micro ai-edge-litert
    target/tfvenv/bin/python peers/microflow-band/model/make_model.py --variant small \
        --data target/datasets

Writes to <variant>/ next to this file: model.tflite, inputs.i8 (64 int8 test windows, 360 B each),
tflm_outputs.i8 (TFLite Micro's 8 int8 outputs per window), labels.u8, meta.json.
"""

import argparse
import json
import sys
from importlib import metadata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "models" / "tools"))
from keras_tools import WINDOW, io_details, op_names, quantize, run_tflm, tf, wisdm_windows  # noqa: E402

HERE = Path(__file__).resolve().parent
SEED = 20261202
HOP = 30
# WISDM 2019 activity codes in small's class order; the last four are all "eating".
CODES = ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "L"]
CLASSES = ["walking", "jogging", "stairs", "sitting", "standing", "typing", "brushing_teeth", "eating"]
# models/small-int8-generalized/card.yaml: train and test users.
TRAIN_USERS = [1600, 1601, 1602, 1603, 1604, 1605, 1607, 1610, 1611, 1612, 1613, 1614, 1615, 1616,
               1618, 1619, 1620, 1621, 1622, 1623, 1625, 1626, 1627, 1628, 1630, 1632, 1633, 1634,
               1636, 1641, 1642, 1643, 1646, 1649, 1650]
TEST_USERS = [1617, 1624, 1631, 1644, 1648]
TEST_WINDOWS = 64
EPOCHS = 16
# The model cards' convolution blocks (models/*-int8-generalized/card.yaml): (channels,
# kernel, pool after it); a global average pool and the dense layer follow.
VARIANTS = {
    "tiny": [(8, 5, 2), (16, 5, None)],
    "small": [(16, 5, 2), (24, 5, 2), (32, 3, None)],
    "base": [(32, 5, 2), (48, 5, 2), (64, 3, None)],
}


def model(variant, batch_size=None):
    """`batch_size=1` for conversion: a fixed batch makes Flatten one static RESHAPE (with a
    free batch the converter emits SHAPE, STRIDED_SLICE and PACK to compute it)."""
    layers = tf.keras.layers
    stack = [tf.keras.Input((1, WINDOW, 6), batch_size=batch_size)]
    width = WINDOW
    for channels, kernel, pool in VARIANTS[variant]:
        stack.append(layers.Conv2D(channels, (1, kernel), activation="relu"))
        width -= kernel - 1
        if pool:
            stack.append(layers.AveragePooling2D((1, pool)))
            width //= pool
    # Global average pooling as one AVERAGE_POOL_2D over the remaining width (not MEAN).
    stack += [
        layers.AveragePooling2D((1, width)),
        layers.Flatten(),
        layers.Dense(len(CLASSES)),
        layers.Softmax(),
    ]
    return tf.keras.Sequential(stack)


def convert_int8(keras_model, representative):
    """Full int8 (int8 input and output); FULLY_CONNECTED per-tensor, as MicroFlow reads it."""

    def gen():
        for x in representative:
            yield [x[None, ...]]

    converter = tf.lite.TFLiteConverter.from_keras_model(keras_model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = gen
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    converter._experimental_disable_per_channel_quantization_for_dense_layers = True
    return converter.convert()


def windows(data, users):
    x, y = wisdm_windows(data, users, CODES, HOP)
    return x[:, None, :, :], np.minimum(y, len(CLASSES) - 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=list(VARIANTS), default="small")
    parser.add_argument("--data", default=str(ROOT / "target" / "datasets"))
    args = parser.parse_args()
    out_dir = HERE / args.variant

    tf.keras.utils.set_random_seed(SEED)
    rng = np.random.default_rng(SEED)
    x_train, y_train = windows(args.data, TRAIN_USERS)
    x_test, y_test = windows(args.data, TEST_USERS)
    if len(x_train) == 0 or len(x_test) < TEST_WINDOWS:
        sys.exit(f"not enough WISDM 2019 watch windows under {args.data}")
    mean = x_train.mean(axis=(0, 1, 2))
    std = x_train.std(axis=(0, 1, 2))
    x_train = ((x_train - mean) / std).astype(np.float32)
    x_test = ((x_test - mean) / std).astype(np.float32)

    net = model(args.variant)
    net.compile(
        optimizer=tf.keras.optimizers.Adam(0.002),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    history = net.fit(x_train, y_train, epochs=EPOCHS, batch_size=64, verbose=2)
    float_accuracy = float((net.predict(x_test, verbose=0).argmax(axis=1) == y_test).mean())

    representative = x_train[rng.choice(len(x_train), 300, replace=False)]
    fixed = model(args.variant, batch_size=1)
    fixed.set_weights(net.get_weights())
    tflite = convert_int8(fixed, representative)
    inp, out = io_details(tflite)
    scale, zp = inp["quantization"]
    test_i8 = quantize(x_test, scale, zp)
    tflm_all = run_tflm(tflite, test_i8)
    int8_accuracy = float((tflm_all.argmax(axis=1) == y_test).mean())

    # 64 test windows spread evenly over the classes (seeded).
    per_class = TEST_WINDOWS // len(CLASSES)
    picks = np.sort(np.concatenate(
        [rng.choice(np.flatnonzero(y_test == c), per_class, replace=False) for c in range(len(CLASSES))]
    ))
    out_dir.mkdir(exist_ok=True)
    (out_dir / "model.tflite").write_bytes(tflite)
    test_i8[picks].tofile(out_dir / "inputs.i8")
    tflm_all[picks].astype(np.int8).tofile(out_dir / "tflm_outputs.i8")
    y_test[picks].astype(np.uint8).tofile(out_dir / "labels.u8")
    meta = {
        "generator": "peers/microflow-band/model/make_model.py",
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "tensorflow": tf.__version__,
            "tflite_micro": metadata.version("tflite-micro"),
        },
        "variant": args.variant,
        "seed": SEED,
        "classes": CLASSES,
        "train_users": TRAIN_USERS,
        "test_users": TEST_USERS,
        "mean": [float(v) for v in mean],
        "std": [float(v) for v in std],
        "train_windows": int(len(x_train)),
        "test_windows": int(len(x_test)),
        "epochs": EPOCHS,
        "train_accuracy_last_epoch": float(history.history["accuracy"][-1]),
        "float_accuracy": float_accuracy,
        "int8_tflm_accuracy": int8_accuracy,
        "ops": op_names(tflite),
        "input_quantization": [float(scale), int(zp)],
        "output_quantization": [float(out["quantization"][0]), int(out["quantization"][1])],
        "params": int(net.count_params()),
        "bytes": len(tflite),
        "golden_windows": int(len(picks)),
    }
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
