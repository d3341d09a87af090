#!/usr/bin/env python3
"""Makes fixtures/keras/: a model trained and converted outside harbor, by Keras and
TensorFlow's own TFLiteConverter, with TFLite Micro's outputs for committed test windows.

It documents how the fixture was made; harbor's tests only read the files it wrote. Needs
TensorFlow, which harbor itself never installs (its reference environment has only
tflite-micro, ai-edge-litert and numpy), so run it in a throwaway virtualenv:
    python3 -m venv target/tfvenv
    target/tfvenv/bin/pip install tensorflow-cpu numpy tflite-micro ai-edge-litert
    target/tfvenv/bin/python models/tools/make_keras_fixture.py --data target/datasets

Data: real WISDM 2019 watch recordings (raw accel m/s² + gyro rad/s, 20 Hz, rows of the two
sensors paired by index), 60-sample windows with a 30-sample hop (harbor's band input:
3 s at 20 Hz, 6 channels), 7 activities. The network sees each channel standardized with the
training windows' mean and std (in physical units, written to meta.json).

Two variants share one trained network: `cnn_logits` ends in Dense (logits), `cnn_softmax`
adds a Softmax layer. Each is converted to full int8 (representative dataset: 300 training
windows) and to float32. Files written (all small; the directory stays under 100 KB):
    cnn_{logits,softmax}_int8.tflite   full-int8 models (int8 input and output)
    cnn_{logits,softmax}_f32.tflite    float32 models, input = standardized window
    windows_f32.npy   float32 [N, 60, 6] standardized test windows (the float models' input)
    windows_int8.npy  int8 [N, 60, 6] the same windows quantized with the int8 input's
                      scale and zero point (both int8 models share them)
    labels.npy        int64 [N] class index (order of `classes` in meta.json)
    cnn_{logits,softmax}_tflm.npy     int8 [N, 7] TFLite Micro's outputs on windows_int8
    cnn_{logits,softmax}_f32_ref.npy  float32 [N, 7] LiteRT's float reference kernels
                                      (BUILTIN_REF) on windows_f32
    meta.json         versions, classes, rate/window/hop, mean/std, quantization, ops, scores
"""

import argparse
import json
import sys
from importlib import metadata
from pathlib import Path

import numpy as np

from keras_tools import WINDOW, convert_int8, io_details, op_names, quantize, run_litert_ref, run_tflm, tf, wisdm_windows

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "fixtures" / "keras"
SEED = 20261202
RATE_HZ = 20.0
HOP = 30
CHANNELS = ["accel_x", "accel_y", "accel_z", "gyro_x", "gyro_y", "gyro_z"]
UNITS = ["m/s^2"] * 3 + ["rad/s"] * 3
# WISDM 2019 activity codes → class names.
CLASSES = {
    "A": "walking",
    "B": "jogging",
    "C": "stairs",
    "D": "sitting",
    "E": "standing",
    "F": "typing",
    "G": "brushing_teeth",
}
TRAIN_SUBJECTS = range(1600, 1630)
TEST_SUBJECTS = range(1630, 1651)
TEST_WINDOWS = 32
EPOCHS = 12


def logits_model():
    return tf.keras.Sequential(
        [
            tf.keras.Input((WINDOW, len(CHANNELS))),
            tf.keras.layers.Conv1D(8, 5, activation="relu"),
            tf.keras.layers.MaxPooling1D(2),
            tf.keras.layers.Conv1D(16, 5, activation="relu"),
            tf.keras.layers.GlobalAveragePooling1D(),
            tf.keras.layers.Dense(len(CLASSES)),
        ]
    )


def convert_f32(model):
    return tf.lite.TFLiteConverter.from_keras_model(model).convert()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "target" / "datasets"))
    args = parser.parse_args()

    tf.keras.utils.set_random_seed(SEED)
    rng = np.random.default_rng(SEED)
    x_train, y_train = wisdm_windows(args.data, TRAIN_SUBJECTS, list(CLASSES), HOP)
    x_test, y_test = wisdm_windows(args.data, TEST_SUBJECTS, list(CLASSES), HOP)
    if len(x_train) == 0 or len(x_test) < TEST_WINDOWS:
        sys.exit(f"not enough WISDM 2019 watch windows under {args.data}")
    mean = x_train.mean(axis=(0, 1))
    std = x_train.std(axis=(0, 1))
    x_train = (x_train - mean) / std
    x_test = (x_test - mean) / std

    base = logits_model()
    base.compile(
        optimizer="adam",
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = base.fit(x_train, y_train, epochs=EPOCHS, batch_size=64, verbose=0)
    softmax = tf.keras.Sequential([base, tf.keras.layers.Softmax()])
    float_accuracy = float((base.predict(x_test, verbose=0).argmax(axis=1) == y_test).mean())

    # Test windows: TEST_WINDOWS drawn evenly over the classes (seeded).
    picks = []
    per_class = TEST_WINDOWS // len(CLASSES)
    for c in range(len(CLASSES)):
        idx = np.flatnonzero(y_test == c)
        picks += list(rng.choice(idx, per_class, replace=False))
    rest = np.setdiff1d(np.arange(len(y_test)), picks)
    picks += list(rng.choice(rest, TEST_WINDOWS - len(picks), replace=False))
    picks = np.asarray(sorted(picks))
    test_f32 = x_test[picks].astype(np.float32)
    labels = y_test[picks].astype(np.int64)
    representative = x_train[rng.choice(len(x_train), 300, replace=False)]

    OUT.mkdir(parents=True, exist_ok=True)
    meta = {
        "generator": "models/tools/make_keras_fixture.py",
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "tensorflow": tf.__version__,
            "keras": tf.keras.__version__ if hasattr(tf.keras, "__version__") else metadata.version("keras"),
            "tflite_micro": metadata.version("tflite-micro"),
            "ai_edge_litert": metadata.version("ai-edge-litert"),
        },
        "seed": SEED,
        "data": "WISDM 2019 raw watch accel+gyro; train subjects 1600-1629, test subjects 1630-1650",
        "classes": list(CLASSES.values()),
        "rate_hz": RATE_HZ,
        "window": WINDOW,
        "hop": HOP,
        "channels": CHANNELS,
        "units": UNITS,
        "mean": [float(v) for v in mean],
        "std": [float(v) for v in std],
        "normalization": "model input = (x - mean) / std per channel, x in physical units",
        "train_windows": int(len(x_train)),
        "test_windows_all": int(len(x_test)),
        "epochs": EPOCHS,
        "train_accuracy_last_epoch": float(history.history["accuracy"][-1]),
        "float_accuracy_all_test_windows": float_accuracy,
        "windows": int(len(picks)),
        "models": {},
    }
    np.save(OUT / "windows_f32.npy", test_f32)
    np.save(OUT / "labels.npy", labels)
    input_quant = None
    for name, model in [("cnn_logits", base), ("cnn_softmax", softmax)]:
        int8_bytes = convert_int8(model, representative)
        f32_bytes = convert_f32(model)
        (OUT / f"{name}_int8.tflite").write_bytes(int8_bytes)
        (OUT / f"{name}_f32.tflite").write_bytes(f32_bytes)
        inp, out = io_details(int8_bytes)
        ops = op_names(int8_bytes)
        scale, zp = inp["quantization"]
        if input_quant is None:
            input_quant = (scale, zp)
            test_i8 = quantize(test_f32, scale, zp)
            np.save(OUT / "windows_int8.npy", test_i8)
        elif input_quant != (scale, zp):
            sys.exit(f"{name}: input quantization {scale, zp} differs from {input_quant}")
        tflm_out = run_tflm(int8_bytes, test_i8).astype(np.int8)
        np.save(OUT / f"{name}_tflm.npy", tflm_out)
        ref_f32 = run_litert_ref(f32_bytes, test_f32).astype(np.float32)
        np.save(OUT / f"{name}_f32_ref.npy", ref_f32)
        keras_out = model.predict(test_f32, verbose=0)
        ref_i8 = run_litert_ref(int8_bytes, test_i8).astype(np.int8)
        diff = np.abs(tflm_out.astype(np.int32) - ref_i8.astype(np.int32))
        f32_ops = op_names(f32_bytes)
        meta["models"][name] = {
            "int8_ops": ops,
            "f32_ops": f32_ops,
            "input_quantization": [float(scale), int(zp)],
            "output_quantization": [float(out["quantization"][0]), int(out["quantization"][1])],
            "int8_accuracy_on_windows": float((tflm_out.argmax(axis=1) == labels).mean()),
            "f32_accuracy_on_windows": float((ref_f32.argmax(axis=1) == labels).mean()),
            "litert_ref_f32_vs_keras_max_abs": float(np.abs(ref_f32 - keras_out).max()),
            "litert_builtin_ref_int8_vs_tflm": {
                "windows_differing": int((diff.max(axis=1) > 0).sum()),
                "max_abs_difference": int(diff.max()),
            },
            "bytes": {"int8": len(int8_bytes), "f32": len(f32_bytes)},
        }
        print(name, json.dumps(meta["models"][name]))
    (OUT / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"float accuracy (all {len(x_test)} test windows): {float_accuracy:.3f}; {OUT}: {total} bytes")


if __name__ == "__main__":
    main()
