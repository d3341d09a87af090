"""Shared by harbor's offline fixture generators (make_golden.py, make_keras_fixture.py):
WISDM 2019 watch windows, TensorFlow's int8 conversion, and the two reference engines
(TFLite Micro, LiteRT's BUILTIN_REF kernels). Needs tensorflow, tflite-micro, ai-edge-litert."""

import os
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf  # noqa: E402
from ai_edge_litert import interpreter as litert  # noqa: E402
from tflite_micro.python.tflite_micro import runtime as tflm  # noqa: E402

WINDOW = 60
CHANNELS = 6


def read_wisdm(path):
    """Rows of one raw WISDM 2019 file grouped by activity code: {code: float32[n, 3]}."""
    rows = {}
    with open(path) as f:
        for line_no, line in enumerate(f, 1):
            line = line.strip().rstrip(";")
            if not line:
                continue
            parts = line.split(",")
            if len(parts) != 6:
                raise ValueError(f"{path}:{line_no}: expected 6 fields, got {len(parts)}")
            rows.setdefault(parts[1], []).append([float(v) for v in parts[3:6]])
    return {k: np.asarray(v, dtype=np.float32) for k, v in rows.items()}


def wisdm_windows(data_root, subjects, codes, hop):
    """WINDOW-row windows of accel xyz + gyro xyz (rows of the two sensors paired by index,
    20 Hz) with a class index = position of the activity code in `codes`."""
    base = Path(data_root) / "wisdm2019" / "wisdm-dataset" / "raw" / "watch"
    xs, ys = [], []
    for s in subjects:
        acc_path = base / "accel" / f"data_{s}_accel_watch.txt"
        gyr_path = base / "gyro" / f"data_{s}_gyro_watch.txt"
        if not acc_path.exists() or not gyr_path.exists():
            continue
        acc, gyr = read_wisdm(acc_path), read_wisdm(gyr_path)
        for label, code in enumerate(codes):
            if code not in acc or code not in gyr:
                continue
            n = min(len(acc[code]), len(gyr[code]))
            both = np.concatenate([acc[code][:n], gyr[code][:n]], axis=1)
            for start in range(0, n - WINDOW + 1, hop):
                xs.append(both[start : start + WINDOW])
                ys.append(label)
    return np.asarray(xs, dtype=np.float32), np.asarray(ys, dtype=np.int64)


def convert_int8(model, representative):
    """Full-int8 conversion (int8 input and output) by TensorFlow's TFLiteConverter."""

    def gen():
        for x in representative:
            yield [x[None, ...]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = gen
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def io_details(model_bytes):
    """LiteRT's details of the model's first input and first output."""
    interp = litert.Interpreter(model_content=model_bytes)
    return interp.get_input_details()[0], interp.get_output_details()[0]


def op_names(model_bytes):
    interp = litert.Interpreter(model_content=model_bytes)
    return [d["op_name"] for d in interp._get_ops_details()]


def quantize(real, scale, zero_point):
    return np.clip(np.round(real / scale) + zero_point, -128, 127).astype(np.int8)


def run_tflm(model_bytes, inputs):
    """TFLite Micro's int8 outputs, one row per input window."""
    interp = tflm.Interpreter.from_bytes(model_bytes)
    outs = []
    for x in inputs:
        interp.set_input(x[None, ...], 0)
        interp.invoke()
        outs.append(np.array(interp.get_output(0)).reshape(-1).astype(np.int8))
    return np.stack(outs)


def run_litert_ref(model_bytes, inputs):
    """LiteRT's reference kernels (BUILTIN_REF), outputs in the model's output type."""
    interp = litert.Interpreter(
        model_content=model_bytes,
        experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF,
    )
    interp.allocate_tensors()
    i_idx = interp.get_input_details()[0]["index"]
    o_idx = interp.get_output_details()[0]["index"]
    outs = []
    for x in inputs:
        interp.set_tensor(i_idx, x[None, ...])
        interp.invoke()
        outs.append(interp.get_tensor(o_idx).reshape(-1).copy())
    return np.stack(outs)
