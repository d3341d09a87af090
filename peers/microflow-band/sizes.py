#!/usr/bin/env python3
"""Flash bytes of a riscv32 ELF by part, from its symbol table (`llvm-nm -S`).

    python3 sizes.py IMAGE.elf [IMAGE.elf ...] [--model FILE.tflite] [--markdown]

Each function or constant of `.text`, `.rodata` and `.data` is put in one part by its
(demangled) name; whatever no symbol covers (alignment, unnamed constants such as panic
messages and jump tables) is "unnamed", except the bytes of `--model` when they are found in
`.rodata` (the `.tflite` harbor's images embed, an unnamed constant). With LTO, inlined code counts in the function it was
inlined into, so a part is "code that ended up in these functions". The last column is the
section total as `llvm-size` gives it, so the parts add up to it.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

# (part, pattern on the demangled name), first match wins.
PARTS = [
    ("invoke (and the kernels LTO inlined into it)", r"^<peer_harbor::Harbor as microflow_band::Engine>::infer|^band_app::inference::invoke"),
    ("MicroFlow model code", r"^<peer_microflow::.* as microflow_band::Engine>::infer"),
    ("compiled plan: weights, per-channel constants, kernel calls", r"^(<?peer_harbor_compiled::plan|<peer_harbor_compiled::Compiled as microflow_band::Engine>::infer)"),
    ("soft-float", r"^(compiler_builtins::float|__(add|sub|mul|div|neg|cmp|eq|ne|lt|le|gt|ge|unord|fix|float|extend|trunc|pow)\w*[sdt]f\w*|fminf?|fmaxf?|roundf?|expf?|libm::)"),
    ("mem functions", r"^(compiler_builtins::mem|mem(cpy|set|move|cmp)|bcmp)"),
    ("integer builtins", r"^(compiler_builtins::int|__(u?(div|mod)|mul|ashl|ashr|lshr|clz|ctz)\w*[dst]i3)"),
    ("panic & formatting", r"^(core::fmt|core::panicking|core::result::unwrap_failed|core::option::(expect|unwrap)_failed|core::str|core::slice::index|core::cell::panic|<.* as core::fmt::(Debug|Display)>|core::num::.*fmt|rust_begin_unwind|.*panic)"),
    ("model reader (flatbuffer, validation)", r"^(<?harbor_core::tflite)"),
    ("op preparation (plan, multipliers)", r"^(<?harbor_core::interpreter::prepare|<?harbor_core::interpreter::plan|<?harbor_core::fixedpoint::(scales|quantize|frexp|round))"),
    ("interpreter (tables, invoke)", r"^(<?harbor_core::interpreter)"),
    ("kernels", r"^(<?harbor_core::(kernels|fixedpoint))"),
    ("crypto (ed25519, SHA-2, CRC)", r"^(<?curve25519|<?ed25519|<?sha2|<?crc|<?digest|<?subtle|.*FieldElement)"),
    ("protocol, OTA, input, resampler", r"^(<?harbor_core::(protocol|ota|window|input|rate|golden))"),
    ("band application", r"^(<?band_app|<?band_qemu|<?band_esp32c3|band_main)"),
    ("MicroFlow model code", r"^(<?microflow::|<?nalgebra|<?simba|<?num_traits|.*PeerModel)"),
    ("main (and what LTO inlined into it)", r"^main$"),
    ("measuring skeleton", r"^(<?microflow_band|_start|_?start|__stack|__bss|__data|peer_trap|__rustc::rust_begin_unwind)"),
]


def tool(name):
    for candidate in (name, name + "-19", name + "-18", name + "-17"):
        if shutil.which(candidate):
            return candidate
    sys.exit(f"sizes.py: {name} not found (Debian package llvm)")


def sections(elf):
    out = subprocess.run([tool("llvm-size"), "-A", elf], capture_output=True, text=True, check=True).stdout
    result = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] in (".text", ".rodata", ".data"):
            result[parts[0]] = (int(parts[2]), int(parts[1]))
    return result


def symbols(elf):
    out = subprocess.run(
        [tool("llvm-nm"), "-C", "-S", "--defined-only", elf], capture_output=True, text=True, check=True
    ).stdout
    seen = {}
    for line in out.splitlines():
        parts = line.split(" ", 3)
        if len(parts) != 4 or parts[2].lower() not in "tdrb":
            continue
        addr, size, name = int(parts[0], 16), int(parts[1], 16), parts[3]
        if size == 0 or name.startswith(("$", ".L")):
            continue
        # Aliases (the same bytes under two names) count once.
        seen.setdefault((addr, size), name)
    return [(a, s, n) for (a, s), n in seen.items()]


def demangled(name):
    """Finishes what `llvm-nm -C` leaves of legacy Rust names (`_$LT$a..B$u20$as$u20$c$GT$`)."""
    for old, new in (("_$LT$", "<"), ("$LT$", "<"), ("$GT$", ">"), ("$u20$", " "), ("$RF$", "&"),
                     ("$C$", ","), ("$u7b$", "{"), ("$u7d$", "}"), ("..", "::")):
        name = name.replace(old, new)
    return re.sub(r"::h[0-9a-f]{16}$", "", name)


def part_of(name):
    bare = demangled(name)
    for part, pattern in PARTS:
        if re.search(pattern, bare):
            return part
    return "other"


def model_bytes_in_rodata(elf, model):
    """Length of `model`'s bytes if `.rodata` holds them, else 0."""
    with open(model, "rb") as f:
        wanted = f.read()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "rodata.bin")
        subprocess.run(
            [tool("llvm-objcopy"), "-O", "binary", "--only-section=.rodata", elf, out], check=True
        )
        with open(out, "rb") as f:
            return len(wanted) if wanted in f.read() else 0


def attribute(elf, model=None):
    secs = sections(elf)
    table = {}
    for addr, size, name in symbols(elf):
        for sec, (start, length) in secs.items():
            if start <= addr < start + length:
                key = (part_of(name), sec)
                table[key] = table.get(key, 0) + size
                break
    if model:
        found = model_bytes_in_rodata(elf, model)
        if found:
            table[("model (.tflite)", ".rodata")] = found
    for sec, (_, length) in secs.items():
        named = sum(v for (p, s), v in table.items() if s == sec)
        table[("unnamed (alignment, constants)", sec)] = length - named
    return table, {s: l for s, (_, l) in secs.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("elf", nargs="+")
    parser.add_argument("--model", help="a .tflite whose bytes an image may embed in .rodata")
    parser.add_argument("--markdown", action="store_true", help="one markdown table per image")
    args = parser.parse_args()
    for elf in args.elf:
        table, totals = attribute(elf, args.model)
        order = ["model (.tflite)"] + list(dict.fromkeys(p for p, _ in PARTS))
        order += ["other", "unnamed (alignment, constants)"]
        rows = []
        for part in order:
            cells = [table.get((part, s), 0) for s in (".text", ".rodata", ".data")]
            if any(cells):
                rows.append((part, cells, sum(cells)))
        if args.markdown:
            print(f"`{elf.rsplit('/', 1)[-1]}`\n")
            print("| part | .text | .rodata | .data | flash |")
            print("|---|---|---|---|---|")
            for part, cells, total in rows:
                print(f"| {part} | " + " | ".join(f"{c:,}" for c in cells) + f" | {total:,} |")
            cells = [totals.get(s, 0) for s in (".text", ".rodata", ".data")]
            print("| **total** | " + " | ".join(f"{c:,}" for c in cells) + f" | **{sum(cells):,}** |\n")
        else:
            print(elf)
            for part, cells, total in rows:
                print(f"  {part:40} {cells[0]:>8} {cells[1]:>8} {cells[2]:>8} {total:>8}")
            print(f"  {'total':40} {sum(totals.values()):>35}")


if __name__ == "__main__":
    main()
