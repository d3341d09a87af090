#!/usr/bin/env python3
"""Runs a harbor-exported int8 .tflite in TFLite Micro's Python interpreter (and LiteRT's
BUILTIN_REF kernels for comparison) on int8 input windows; prints or saves the outputs.

usage: tflm_check.py MODEL.tflite INPUTS.i8 [--out OUTPUTS.i8]
INPUTS.i8: raw int8 windows back to back, each the model input's size.
Needs the PyPI packages `tflite-micro` and `ai-edge-litert` (and numpy): `scripts/setup`
installs them in the reference virtualenv target/pyenv, so:
    target/pyenv/bin/python models/tools/tflm_check.py MODEL.tflite INPUTS.i8
It runs offline once the packages are installed.
"""
import argparse
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("inputs")
    ap.add_argument("--out")
    ap.add_argument("--float", dest="float_model", help="model_f32.tflite: run it in TFLM on the dequantized inputs and compare classes")
    args = ap.parse_args()

    from tflite_micro.python.tflite_micro import runtime

    model = open(args.model, "rb").read()
    tflm = runtime.Interpreter.from_bytes(model)
    det = tflm.get_input_details(0)
    shape, dtype = det["shape"], det["dtype"]
    size = int(np.prod(shape))
    raw = np.fromfile(args.inputs, dtype=np.int8)
    if raw.size % size:
        sys.exit(f"{args.inputs}: {raw.size} bytes is not a multiple of the input size {size}")
    windows = raw.reshape(-1, *shape[1:])
    outs = []
    for w in windows:
        tflm.set_input(w[None, ...].astype(dtype), 0)
        tflm.invoke()
        outs.append(tflm.get_output(0).copy())
    outs = np.concatenate(outs).astype(np.int8)

    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    ref = Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    ref.allocate_tensors()
    rin, rout = ref.get_input_details()[0], ref.get_output_details()[0]
    ref_outs = []
    for w in windows:
        ref.set_tensor(rin["index"], w[None, ...].astype(dtype))
        ref.invoke()
        ref_outs.append(ref.get_tensor(rout["index"]).copy())
    ref_outs = np.concatenate(ref_outs).astype(np.int8)
    diff = np.abs(outs.astype(int) - ref_outs.astype(int))
    print(f"windows {len(windows)}; TFLM vs LiteRT BUILTIN_REF: {int((diff.max(axis=1) > 0).sum())} windows differ, max {int(diff.max())} LSB")
    print(f"TFLM classes: {np.bincount(outs.argmax(axis=1), minlength=outs.shape[1]).tolist()}")
    if args.out:
        outs.tofile(args.out)

    if args.float_model:
        # The int8 input is the normalized window quantized; dequantizing it gives the float
        # model (almost) the same input, so its classes should mostly match the int8 model's.
        qp = det["quantization_parameters"]
        scale, zero = float(qp["scales"][0]), int(qp["zero_points"][0])
        fm = runtime.Interpreter.from_bytes(open(args.float_model, "rb").read())
        probs = []
        for w in windows:
            fm.set_input(((w.astype(np.float32) - zero) * scale)[None, ...], 0)
            fm.invoke()
            probs.append(fm.get_output(0).copy())
        probs = np.concatenate(probs)
        int8_probs = (outs.astype(np.float32) + 128.0) / 256.0
        agree = float((probs.argmax(axis=1) == outs.argmax(axis=1)).mean())
        print(f"float32 model in TFLM: same class as int8 on {agree * 100:.1f} % of windows, "
              f"max |delta probability| {float(np.abs(probs - int8_probs).max()):.4f}")


if __name__ == "__main__":
    main()
