#!/usr/bin/env python3
"""Turns scripts/peer-microflow's QEMU runs and ELF images into the side-by-side table.

Instructions: median `minstret` delta around one inference over the test windows. Flash: the
image's .text + .rodata + .data load image (the test windows live in .inputs and are left
out). RAM: .data + .bss + stack high-water, with harbor's arena counted as what the model
uses rather than the static reservation (as harbor's report counts `ram_bytes`). Each engine's
share is its image minus peer-none, the measuring code alone."""

import argparse
import datetime
import re
import statistics
import struct
import subprocess
import sys
from pathlib import Path

# macs_per_window of models/<variant>-int8-generalized/card.yaml; each peer model has the same
# convolutions and dense layer (pooling adds no multiplies).
MACS = {"tiny": 28_928, "small": 96_256, "base": 330_752}


def sections(path):
    """{name: size} of an ELF32 little-endian file's sections."""
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 1 or data[5] != 1:
        sys.exit(f"{path}: not a 32-bit little-endian ELF")
    shoff, = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)
    headers = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize) for i in range(shnum)]
    strtab = headers[shstrndx][4]
    out = {}
    for name_off, _type, _flags, _addr, _off, size, *_ in headers:
        end = data.index(b"\0", strtab + name_off)
        out[data[strtab + name_off:end].decode()] = size
    return out


def read_run(path):
    """Counted instructions, int8 outputs and the reported figures of one QEMU run."""
    run = {"instructions": [], "outputs": [], "figures": {}}
    for line in Path(path).read_text().splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "window":
            run["instructions"].append(int(fields[3]))
            run["outputs"].append(bytes.fromhex(fields[5]) if len(fields) > 5 else b"")
        elif len(fields) == 2 and fields[1].isdigit():
            run["figures"][fields[0]] = int(fields[1])
    if not run["instructions"] or "stack" not in run["figures"]:
        sys.exit(f"{path}: no complete run (expected window lines and a stack line)")
    return run


def footprint(elf, run):
    s = sections(elf)
    text, rodata, data, bss = (s.get(k, 0) for k in (".text", ".rodata", ".data", ".bss"))
    f = run["figures"]
    arena_static = f.get("arena_reserved", 0)
    return {
        "text": text,
        "rodata": rodata,
        "data": data,
        "bss": bss - arena_static,
        "arena": f.get("arena", 0),
        "stack": f["stack"],
        "stack_inference": f.get("stack_inference", 0),
        "flash": text + rodata + data,
        "ram": data + bss - arena_static + f.get("arena", 0) + f["stack"],
    }


def agreement(outputs, expected_path, classes):
    expected = Path(expected_path).read_bytes()
    rows = [expected[i:i + classes] for i in range(0, len(expected), classes)]
    if len(rows) != len(outputs):
        sys.exit(f"{expected_path}: {len(rows)} rows, the run printed {len(outputs)}")
    signed = lambda b: [v - 256 if v > 127 else v for v in b]  # noqa: E731
    exact = sum(a == b for a, b in zip(outputs, rows))
    diffs = [abs(x - y) for a, b in zip(outputs, rows) for x, y in zip(signed(a), signed(b))]
    differing = sum(d > 0 for d in diffs)
    argmax = lambda v: max(range(len(v)), key=lambda i: (v[i], -i))  # noqa: E731
    same_class = sum(argmax(signed(a)) == argmax(signed(b)) for a, b in zip(outputs, rows))
    return {
        "windows": len(rows),
        "exact": exact,
        "max_diff": max(diffs),
        "values_differing": differing,
        "values": len(diffs),
        "same_class": same_class,
    }


def versions(root):
    lock = (root / "peers/microflow-band/Cargo.lock").read_text()
    found = dict(re.findall(r'name = "([^"]+)"\nversion = "([^"]+)"', lock))
    rustc = subprocess.run(["rustc", "--version"], cwd=root / "peers/microflow-band",
                           capture_output=True, text=True).stdout.strip()
    qemu = subprocess.run(["qemu-system-riscv32", "--version"], capture_output=True,
                          text=True).stdout.splitlines()[0]
    return found, rustc, qemu


def n(v):
    return f"{v:,}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, type=Path)
    parser.add_argument("--elf", required=True, type=Path)
    parser.add_argument("--runs", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    root = args.root
    peer_models = root / "peers/microflow-band/model"
    small = root / "models/small-int8-generalized"

    for variant, macs in MACS.items():
        meta = (peer_models / variant / "meta.json").read_text()
        if not re.search(r'"output_quantization": \[\s*0\.00390625,\s*-128\s*\]', meta):
            sys.exit(f"{peer_models}/{variant}/meta.json: output quantization is not "
                     "(1/256, -128), which src/bin/microflow.rs assumes")
        card = root / f"models/{variant}-int8-generalized/card.yaml"
        if not re.search(rf"macs_per_window: {macs}\b", card.read_text()):
            sys.exit(f"{card}: macs_per_window is not {macs}")

    names = ("peer-none", "peer-harbor", "peer-microflow", "peer-harbor-small", "peer-none-o3",
             "peer-harbor-o3", "peer-microflow-o3", "peer-harbor-tiny", "peer-microflow-tiny",
             "peer-harbor-base", "peer-microflow-base", "peer-harbor-compiled",
             "peer-harbor-compiled-tiny", "peer-harbor-compiled-base", "peer-harbor-compiled-small")
    runs = {name: read_run(args.runs / f"{name}.txt") for name in names}
    sizes = {name: footprint(args.elf / f"{name}.elf", run) for name, run in runs.items()}
    def peer(variant):
        return f"{variant} peer", peer_models / variant / "tflm_outputs.i8", MACS[variant]

    # (engine, opt-level, (model, TFLite Micro's outputs, MACs), image, the image's peer-none)
    rows = [
        ("harbor", '"s"', peer("small"), "peer-harbor", "peer-none"),
        ("MicroFlow", '"s"', peer("small"), "peer-microflow", "peer-none"),
        ("harbor", "3", peer("small"), "peer-harbor-o3", "peer-none-o3"),
        ("MicroFlow", "3", peer("small"), "peer-microflow-o3", "peer-none-o3"),
        ("harbor", '"s"', peer("tiny"), "peer-harbor-tiny", "peer-none"),
        ("MicroFlow", '"s"', peer("tiny"), "peer-microflow-tiny", "peer-none"),
        ("harbor", '"s"', peer("base"), "peer-harbor-base", "peer-none"),
        ("MicroFlow", '"s"', peer("base"), "peer-microflow-base", "peer-none"),
        ("harbor", '"s"', ("small-int8-generalized", small / "golden/tflm_outputs.i8", MACS["small"]),
         "peer-harbor-small", "peer-none"),
        ("harbor compiled", '"s"', peer("small"), "peer-harbor-compiled", "peer-none"),
        ("harbor compiled", '"s"', peer("tiny"), "peer-harbor-compiled-tiny", "peer-none"),
        ("harbor compiled", '"s"', peer("base"), "peer-harbor-compiled-base", "peer-none"),
        ("harbor compiled", '"s"', ("small-int8-generalized", small / "golden/tflm_outputs.i8",
                                    MACS["small"]), "peer-harbor-compiled-small", "peer-none"),
    ]
    crates, rustc, qemu = versions(root)
    build_error = (args.runs / "microflow-small.build.txt").read_text()
    errors = [line.strip() for line in build_error.splitlines()
              if line.startswith("error") or "help: message" in line]
    first_error = " / ".join(errors[:2]) if errors else "compiled"

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# harbor and MicroFlow side by side on RV32IMC",
        "",
        f"Written by `scripts/peer-microflow` on {now}. Method and discussion: "
        "docs/performance.md, \"Side by side: MicroFlow\".",
        "",
        f"Versions: microflow {crates.get('microflow')}, microflow-macros "
        f"{crates.get('microflow-macros')}, nalgebra {crates.get('nalgebra')} (crates.io, "
        f"peers/microflow-band/Cargo.lock); {rustc}; {qemu}. Every image: LTO, one "
        "codegen unit, `-enable-misched=false` (the band firmware's settings; opt-level \"s\" is "
        "the band's, 3 is cargo's default release and what MicroFlow's examples use), "
        "riscv32imc-unknown-none-elf, QEMU `-icount shift=0,align=off,sleep=off`.",
        "",
        "| engine | opt-level | model | instructions/inference (median) | min–max | instr/MAC | flash B | RAM B | outputs vs TFLite Micro |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    summary = {}
    for engine, opt, (model, expected, macs), name, none in rows:
        run, size, base = runs[name], sizes[name], sizes[none]
        ins = run["instructions"]
        median = int(statistics.median(ins))
        agree = agreement(run["outputs"], expected, len(run["outputs"][0]))
        if agree["exact"] == agree["windows"]:
            verdict = f"{agree['exact']}/{agree['windows']} windows bit-exact"
        else:
            verdict = (f"{agree['exact']}/{agree['windows']} windows bit-exact; "
                       f"{agree['values_differing']}/{agree['values']} values differ, "
                       f"max \\|Δ\\| {agree['max_diff']}; same class {agree['same_class']}/{agree['windows']}")
        flash = size["flash"] - base["flash"]
        ram = size["ram"] - base["ram"]
        summary[name] = (median, flash, ram)
        lines.append(f"| {engine} | {opt} | {model} | **{n(median)}** | {n(min(ins))}–{n(max(ins))} | "
                     f"{median / macs:.2f} | **{n(flash)}** | **{n(ram)}** | {verdict} |")
    lines.append(f"| MicroFlow | any | small-int8-generalized | does not compile: `{first_error}` | | | | | |")
    lines.append("")
    for what, suffix in (('small, opt-level "s"', ""), ("small, opt-level 3", "-o3"),
                         ('tiny, "s"', "-tiny"), ('base, "s"', "-base")):
        hm, hf, hr = summary["peer-harbor" + suffix]
        mm, mf, mr = summary["peer-microflow" + suffix]
        lines.append(f"MicroFlow ÷ harbor on the same model ({what}): instructions "
                     f"×{mm / hm:.2f}, flash ×{mf / hf:.2f}, RAM ×{mr / hr:.2f}.")
    for what, suffix in (('small, "s"', ""), ('tiny, "s"', "-tiny"), ('base, "s"', "-base")):
        cm, cf, cr = summary["peer-harbor-compiled" + suffix]
        mm, mf, mr = summary["peer-microflow" + suffix]
        lines.append(f"MicroFlow ÷ harbor compiled ahead ({what}): instructions "
                     f"×{mm / cm:.2f}, flash ×{mf / cf:.2f}, RAM ×{mr / cr:.2f}.")
    base = sizes["peer-none"]
    lines += [
        "",
        f"Flash B and RAM B are each engine's share: its image minus `peer-none`, the same "
        f"start-up and measuring code with no engine ({n(base['flash'])} B flash, {n(base['ram'])} B "
        "RAM at opt-level \"s\"). Flash = .text + .rodata + .data's load image (model weights included; the test "
        "windows are in their own section, left out). RAM = .data + .bss + stack high-water "
        "(painted stack) + harbor's arena as the model uses it. "
        f"harbor also prepares the model once at start-up "
        f"({n(runs['peer-harbor']['figures'].get('prepare_instructions', 0))} instructions for the "
        "small peer model, not in the per-inference count); MicroFlow does that work at compile time.",
        "",
        "Per image (bytes, before subtracting peer-none):",
        "",
        "| image | .text | .rodata | .data | .bss (no arena) | arena used | stack high-water | of which while inferring |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, s in sizes.items():
        lines.append(f"| {name} | {n(s['text'])} | {n(s['rodata'])} | {n(s['data'])} | "
                     f"{n(s['bss'])} | {n(s['arena'])} | {n(s['stack'])} | {n(s['stack_inference'])} |")
    lines += ["", "MicroFlow's compiler on harbor's small model:", "", "```",
              build_error.strip() or "(no output)", "```", ""]
    text = "\n".join(lines)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
