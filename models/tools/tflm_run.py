#!/usr/bin/env python3
"""Runs a batch of int8 .tflite models in TFLite Micro's Python interpreter, one process for
the whole batch (harbor's differential test calls it once per batch, not once per model).

usage: tflm_run.py JOBS.json
JOBS.json: a list of {"model": M.tflite, "inputs": X.i8, "outputs": Y.i8}. X.i8 holds int8
input windows back to back, each the model input's size; Y.i8 receives TFLM's int8 outputs
in the same layout. Prints one JSON line per job: {"model": ..., "windows": n} or
{"model": ..., "error": "..."}; a model TFLM refuses does not stop the batch.

Needs the PyPI package `tflite-micro` (and numpy): `scripts/setup` installs them in
target/pyenv, so run it as `target/pyenv/bin/python models/tools/tflm_run.py JOBS.json`.
"""
import json
import sys

import numpy as np

# Activations of the largest models harbor runs stay far below this; TFLM's default
# (10 × the model size) is too small for tiny models with wide inputs.
ARENA_BYTES = 4 << 20


def run(job, runtime):
    model = open(job["model"], "rb").read()
    interp = runtime.Interpreter.from_bytes(model, arena_size=max(ARENA_BYTES, 10 * len(model)))
    det = interp.get_input_details(0)
    shape, dtype = det["shape"], det["dtype"]
    if dtype != np.int8:
        raise ValueError(f"input dtype is {np.dtype(dtype).name}, not int8")
    size = int(np.prod(shape))
    raw = np.fromfile(job["inputs"], dtype=np.int8)
    if raw.size % size:
        raise ValueError(f"{raw.size} input bytes is not a multiple of the input size {size}")
    outs = []
    for w in raw.reshape(-1, *shape[1:]):
        interp.set_input(w[None, ...], 0)
        interp.invoke()
        outs.append(np.asarray(interp.get_output(0)).reshape(-1).astype(np.int8))
    np.concatenate(outs).tofile(job["outputs"])
    return len(outs)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    from tflite_micro.python.tflite_micro import runtime

    jobs = json.load(open(sys.argv[1]))
    for job in jobs:
        try:
            result = {"model": job["model"], "windows": run(job, runtime)}
        except Exception as e:  # reported per model; the caller decides
            result = {"model": job["model"], "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
