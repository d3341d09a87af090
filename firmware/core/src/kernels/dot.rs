//! The multiply-accumulate loops every int8 kernel spends its time in.
//!
//! The input offset is not added here: `Σ w·(x + offset) = Σ w·x + offset·Σ w`, and prepare
//! folds `offset·Σ w` into each channel's bias, so the inner loop is loads, multiplies and
//! adds only. [`dot_3x4`] computes three output positions of four channels at once: 7 loads
//! for 12 MACs. On RV32 the row loops are assembly unrolled by four (2.75 instructions per
//! MAC, module `rv32`); elsewhere they are the Rust loops the proptests check. Integer sums
//! wrap exactly like the reference's, so the order of accumulation does not change the result.

/// `Σ w[i] · (x[i] + x_offset)`: the reference form, for positions where only part of a
/// filter lies inside the input (the folded per-channel sum covers whole filters only) and
/// for grouped or width-dilated convolutions. Unrolled by four (bounds checks disappear with
/// `chunks_exact`). Out of line: one copy serves both call sites of the general path.
#[inline(never)]
pub fn dot_with_offset(xs: &[u8], ws: &[u8], x_offset: i32) -> i32 {
    let n = xs.len().min(ws.len());
    let (xs, ws) = (&xs[..n], &ws[..n]);
    let mut acc: i32 = 0;
    let mut xc = xs.chunks_exact(4);
    let mut wc = ws.chunks_exact(4);
    for (x, w) in (&mut xc).zip(&mut wc) {
        let p0 = i32::from(w[0] as i8) * (i32::from(x[0] as i8) + x_offset);
        let p1 = i32::from(w[1] as i8) * (i32::from(x[1] as i8) + x_offset);
        let p2 = i32::from(w[2] as i8) * (i32::from(x[2] as i8) + x_offset);
        let p3 = i32::from(w[3] as i8) * (i32::from(x[3] as i8) + x_offset);
        acc = acc.wrapping_add(p0.wrapping_add(p1).wrapping_add(p2).wrapping_add(p3));
    }
    for (&x, &w) in xc.remainder().iter().zip(wc.remainder()) {
        acc = acc.wrapping_add(i32::from(w as i8) * (i32::from(x as i8) + x_offset));
    }
    acc
}

/// Where [`dot_3x4`] finds its rows: three (or two) positions × four channels, each `len`
/// bytes, summed over `rows` filter rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block3x4 {
    /// Bytes from one position's input row to the next position's.
    pub x_step: usize,
    /// Bytes from one filter row's input to the next filter row's.
    pub x_row_step: usize,
    /// Bytes from one channel's weights to the next channel's.
    pub w_step: usize,
    /// Filter rows to sum over (weights of one channel are `rows · len` contiguous bytes).
    pub rows: usize,
    /// Bytes per row.
    pub len: usize,
    /// Positions: 3, or 2 for the sums `acc[..8]` only (a 2 × 4 block has the registers of
    /// a 3 × 4 one to spare and costs 3.6 instructions per MAC instead of 3.25).
    pub positions: usize,
}

/// Three output positions × four channels: `acc[4p + k] = Σ_rows Σ w_k · x_p`, with
/// `x_p = x[p · x_step + row · x_row_step..][..len]` and `w_k = w[k · w_step + row · len..]`.
/// 7 loads per 12 MACs; the twelve sums and seven pointers stay in RV32's registers (with
/// the band's `-enable-misched=false`, see docs/performance.md). Steps may be 0 to repeat
/// a row. Panics if a row lies outside `x` or `w` (the interpreter's shapes rule it out).
#[inline(never)]
pub fn dot_3x4(x: &[u8], w: &[u8], b: &Block3x4, acc: &mut [i32; 12]) {
    if b.rows == 0 {
        *acc = [0; 12];
    }
    for row in 0..b.rows {
        let (x, w) = (&x[row * b.x_row_step..], &w[row * b.len..]);
        // The first row starts the sums from zero in registers (zeroing `acc` in memory
        // first was a `memset` call per block).
        let first = row == 0;
        if b.positions == 2 {
            dot_2x4_row(x, b.x_step, w, b.w_step, b.len, acc, first);
        } else {
            dot_3x4_row(x, b.x_step, w, b.w_step, b.len, acc, first);
        }
    }
}

/// Two positions of [`dot_3x4`]'s row: `acc[..8]`.
#[cfg(not(target_arch = "riscv32"))]
#[inline(never)]
fn dot_2x4_row(
    x: &[u8],
    x_step: usize,
    w: &[u8],
    w_step: usize,
    n: usize,
    acc: &mut [i32; 12],
    first: bool,
) {
    let (x0, x1) = (&x[..n], &x[x_step..][..n]);
    let (w0, w1) = (&w[..n], &w[w_step..][..n]);
    let (w2, w3) = (&w[2 * w_step..][..n], &w[3 * w_step..][..n]);
    let [
        mut a0,
        mut a1,
        mut a2,
        mut a3,
        mut b0,
        mut b1,
        mut b2,
        mut b3,
        ..,
    ] = if first { [0; 12] } else { *acc };
    for i in 0..n {
        let (x, y) = (i32::from(x0[i] as i8), i32::from(x1[i] as i8));
        let k = i32::from(w0[i] as i8);
        a0 = a0.wrapping_add(k * x);
        b0 = b0.wrapping_add(k * y);
        let k = i32::from(w1[i] as i8);
        a1 = a1.wrapping_add(k * x);
        b1 = b1.wrapping_add(k * y);
        let k = i32::from(w2[i] as i8);
        a2 = a2.wrapping_add(k * x);
        b2 = b2.wrapping_add(k * y);
        let k = i32::from(w3[i] as i8);
        a3 = a3.wrapping_add(k * x);
        b3 = b3.wrapping_add(k * y);
    }
    acc[..8].copy_from_slice(&[a0, a1, a2, a3, b0, b1, b2, b3]);
}

/// One row of [`dot_3x4`]: rows `x[p · x_step..][..n]` and `w[k · w_step..][..n]`. Its own
/// function, with scalar arguments, so that LLVM walks seven pointers (one `addi` each per
/// step) and copies no arrays of slices.
#[cfg(not(target_arch = "riscv32"))]
#[inline(never)]
fn dot_3x4_row(
    x: &[u8],
    x_step: usize,
    w: &[u8],
    w_step: usize,
    n: usize,
    acc: &mut [i32; 12],
    first: bool,
) {
    let (x0, x1, x2) = (&x[..n], &x[x_step..][..n], &x[2 * x_step..][..n]);
    let (w0, w1) = (&w[..n], &w[w_step..][..n]);
    let (w2, w3) = (&w[2 * w_step..][..n], &w[3 * w_step..][..n]);
    let [
        mut a0,
        mut a1,
        mut a2,
        mut a3,
        mut b0,
        mut b1,
        mut b2,
        mut b3,
        mut c0,
        mut c1,
        mut c2,
        mut c3,
    ] = if first { [0; 12] } else { *acc };
    for i in 0..n {
        let (x, y, z) = (
            i32::from(x0[i] as i8),
            i32::from(x1[i] as i8),
            i32::from(x2[i] as i8),
        );
        let k = i32::from(w0[i] as i8);
        a0 = a0.wrapping_add(k * x);
        b0 = b0.wrapping_add(k * y);
        c0 = c0.wrapping_add(k * z);
        let k = i32::from(w1[i] as i8);
        a1 = a1.wrapping_add(k * x);
        b1 = b1.wrapping_add(k * y);
        c1 = c1.wrapping_add(k * z);
        let k = i32::from(w2[i] as i8);
        a2 = a2.wrapping_add(k * x);
        b2 = b2.wrapping_add(k * y);
        c2 = c2.wrapping_add(k * z);
        let k = i32::from(w3[i] as i8);
        a3 = a3.wrapping_add(k * x);
        b3 = b3.wrapping_add(k * y);
        c3 = c3.wrapping_add(k * z);
    }
    *acc = [a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3];
}

/// The RV32IMC form of the row loops: hand-scheduled so that every sum and pointer stays in a
/// register, unrolled by four with load offsets 0–3 so the seven pointer increments and the
/// branch are paid once per four steps (LLVM, unrolling the Rust loop itself, reassociates
/// the sums and spills). Same integer arithmetic as the portable loops, so same wrapping sums.
#[cfg(target_arch = "riscv32")]
#[allow(unsafe_code)]
mod rv32 {
    use core::arch::asm;

    /// One step of the 3 × 4 block at byte offset `$k`: 7 loads, 12 multiplies, 12 adds.
    macro_rules! step_3x4 {
        ($k:literal) => {
            concat!(
                "lb {x}, ",
                $k,
                "({px0})\n",
                "lb {y}, ",
                $k,
                "({px1})\n",
                "lb {z}, ",
                $k,
                "({px2})\n",
                "lb {k}, ",
                $k,
                "({pw0})\n",
                "mul {t}, {k}, {x}\n add {a0}, {a0}, {t}\n",
                "mul {t}, {k}, {y}\n add {b0}, {b0}, {t}\n",
                "mul {t}, {k}, {z}\n add {c0}, {c0}, {t}\n",
                "lb {k}, ",
                $k,
                "({pw1})\n",
                "mul {t}, {k}, {x}\n add {a1}, {a1}, {t}\n",
                "mul {t}, {k}, {y}\n add {b1}, {b1}, {t}\n",
                "mul {t}, {k}, {z}\n add {c1}, {c1}, {t}\n",
                "lb {k}, ",
                $k,
                "({pw2})\n",
                "mul {t}, {k}, {x}\n add {a2}, {a2}, {t}\n",
                "mul {t}, {k}, {y}\n add {b2}, {b2}, {t}\n",
                "mul {t}, {k}, {z}\n add {c2}, {c2}, {t}\n",
                "lb {k}, ",
                $k,
                "({pw3})\n",
                "mul {t}, {k}, {x}\n add {a3}, {a3}, {t}\n",
                "mul {t}, {k}, {y}\n add {b3}, {b3}, {t}\n",
                "mul {t}, {k}, {z}\n add {c3}, {c3}, {t}\n",
            )
        };
    }

    /// One step of the 2 × 4 block at byte offset `$k`: 6 loads, 8 multiplies, 8 adds.
    macro_rules! step_2x4 {
        ($k:literal) => {
            concat!(
                "lb {x}, ",
                $k,
                "({px0})\n",
                "lb {y}, ",
                $k,
                "({px1})\n",
                "lb {k}, ",
                $k,
                "({pw0})\n",
                "mul {t}, {k}, {x}\n add {a0}, {a0}, {t}\n",
                "mul {t}, {k}, {y}\n add {b0}, {b0}, {t}\n",
                "lb {k}, ",
                $k,
                "({pw1})\n",
                "mul {t}, {k}, {x}\n add {a1}, {a1}, {t}\n",
                "mul {t}, {k}, {y}\n add {b1}, {b1}, {t}\n",
                "lb {k}, ",
                $k,
                "({pw2})\n",
                "mul {t}, {k}, {x}\n add {a2}, {a2}, {t}\n",
                "mul {t}, {k}, {y}\n add {b2}, {b2}, {t}\n",
                "lb {k}, ",
                $k,
                "({pw3})\n",
                "mul {t}, {k}, {x}\n add {a3}, {a3}, {t}\n",
                "mul {t}, {k}, {y}\n add {b3}, {b3}, {t}\n",
            )
        };
    }

    /// Rows `x[p · x_step..][..n]` (p < 3) × `w[k · w_step..][..n]` (k < 4) into `acc`.
    #[inline(never)]
    pub(super) fn dot_3x4_row(
        x: &[u8],
        x_step: usize,
        w: &[u8],
        w_step: usize,
        n: usize,
        acc: &mut [i32; 12],
        first: bool,
    ) {
        // The bounds the asm relies on, checked once.
        let (x0, x1, x2) = (&x[..n], &x[x_step..][..n], &x[2 * x_step..][..n]);
        let (w0, w1) = (&w[..n], &w[w_step..][..n]);
        let (w2, w3) = (&w[2 * w_step..][..n], &w[3 * w_step..][..n]);
        let [
            mut a0,
            mut a1,
            mut a2,
            mut a3,
            mut b0,
            mut b1,
            mut b2,
            mut b3,
            mut c0,
            mut c1,
            mut c2,
            mut c3,
        ] = if first { [0; 12] } else { *acc };
        let end4 = x0.as_ptr().wrapping_add(n & !3);
        // SAFETY: every pointer walks `n` bytes of a slice of length `n` checked above; the
        // asm reads memory only and touches no stack.
        unsafe {
            asm!(
                "beq {px0}, {end}, 2f",
                "1:",
                step_3x4!(0),
                step_3x4!(1),
                step_3x4!(2),
                step_3x4!(3),
                "addi {px0}, {px0}, 4",
                "addi {px1}, {px1}, 4",
                "addi {px2}, {px2}, 4",
                "addi {pw0}, {pw0}, 4",
                "addi {pw1}, {pw1}, 4",
                "addi {pw2}, {pw2}, 4",
                "addi {pw3}, {pw3}, 4",
                "bne {px0}, {end}, 1b",
                "2:",
                "beqz {rest}, 4f",
                "3:",
                step_3x4!(0),
                "addi {px0}, {px0}, 1",
                "addi {px1}, {px1}, 1",
                "addi {px2}, {px2}, 1",
                "addi {pw0}, {pw0}, 1",
                "addi {pw1}, {pw1}, 1",
                "addi {pw2}, {pw2}, 1",
                "addi {pw3}, {pw3}, 1",
                "addi {rest}, {rest}, -1",
                "bnez {rest}, 3b",
                "4:",
                px0 = inout(reg) x0.as_ptr() => _,
                px1 = inout(reg) x1.as_ptr() => _,
                px2 = inout(reg) x2.as_ptr() => _,
                pw0 = inout(reg) w0.as_ptr() => _,
                pw1 = inout(reg) w1.as_ptr() => _,
                pw2 = inout(reg) w2.as_ptr() => _,
                pw3 = inout(reg) w3.as_ptr() => _,
                end = in(reg) end4,
                rest = inout(reg) n & 3 => _,
                a0 = inout(reg) a0,
                a1 = inout(reg) a1,
                a2 = inout(reg) a2,
                a3 = inout(reg) a3,
                b0 = inout(reg) b0,
                b1 = inout(reg) b1,
                b2 = inout(reg) b2,
                b3 = inout(reg) b3,
                c0 = inout(reg) c0,
                c1 = inout(reg) c1,
                c2 = inout(reg) c2,
                c3 = inout(reg) c3,
                x = out(reg) _,
                y = out(reg) _,
                z = out(reg) _,
                k = out(reg) _,
                t = out(reg) _,
                options(nostack, readonly, pure),
            );
        }
        *acc = [a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3];
    }

    /// Rows `x[p · x_step..][..n]` (p < 2) × `w[k · w_step..][..n]` (k < 4) into `acc[..8]`.
    #[inline(never)]
    pub(super) fn dot_2x4_row(
        x: &[u8],
        x_step: usize,
        w: &[u8],
        w_step: usize,
        n: usize,
        acc: &mut [i32; 12],
        first: bool,
    ) {
        let (x0, x1) = (&x[..n], &x[x_step..][..n]);
        let (w0, w1) = (&w[..n], &w[w_step..][..n]);
        let (w2, w3) = (&w[2 * w_step..][..n], &w[3 * w_step..][..n]);
        let [
            mut a0,
            mut a1,
            mut a2,
            mut a3,
            mut b0,
            mut b1,
            mut b2,
            mut b3,
            ..,
        ] = if first { [0; 12] } else { *acc };
        let end4 = x0.as_ptr().wrapping_add(n & !3);
        // SAFETY: as in `dot_3x4_row`.
        unsafe {
            asm!(
                "beq {px0}, {end}, 2f",
                "1:",
                step_2x4!(0),
                step_2x4!(1),
                step_2x4!(2),
                step_2x4!(3),
                "addi {px0}, {px0}, 4",
                "addi {px1}, {px1}, 4",
                "addi {pw0}, {pw0}, 4",
                "addi {pw1}, {pw1}, 4",
                "addi {pw2}, {pw2}, 4",
                "addi {pw3}, {pw3}, 4",
                "bne {px0}, {end}, 1b",
                "2:",
                "beqz {rest}, 4f",
                "3:",
                step_2x4!(0),
                "addi {px0}, {px0}, 1",
                "addi {px1}, {px1}, 1",
                "addi {pw0}, {pw0}, 1",
                "addi {pw1}, {pw1}, 1",
                "addi {pw2}, {pw2}, 1",
                "addi {pw3}, {pw3}, 1",
                "addi {rest}, {rest}, -1",
                "bnez {rest}, 3b",
                "4:",
                px0 = inout(reg) x0.as_ptr() => _,
                px1 = inout(reg) x1.as_ptr() => _,
                pw0 = inout(reg) w0.as_ptr() => _,
                pw1 = inout(reg) w1.as_ptr() => _,
                pw2 = inout(reg) w2.as_ptr() => _,
                pw3 = inout(reg) w3.as_ptr() => _,
                end = in(reg) end4,
                rest = inout(reg) n & 3 => _,
                a0 = inout(reg) a0,
                a1 = inout(reg) a1,
                a2 = inout(reg) a2,
                a3 = inout(reg) a3,
                b0 = inout(reg) b0,
                b1 = inout(reg) b1,
                b2 = inout(reg) b2,
                b3 = inout(reg) b3,
                x = out(reg) _,
                y = out(reg) _,
                k = out(reg) _,
                t = out(reg) _,
                options(nostack, readonly, pure),
            );
        }
        acc[..8].copy_from_slice(&[a0, a1, a2, a3, b0, b1, b2, b3]);
    }
}

#[cfg(target_arch = "riscv32")]
use rv32::{dot_2x4_row, dot_3x4_row};

#[cfg(test)]
mod tests {
    use super::*;

    const XS: [u8; 23] = [
        0x80, 0x7f, 0, 1, 0xff, 3, 0x81, 9, 0x40, 0xc0, 5, 0x80, 0x80, 0x7f, 0x7f, 2, 0xfe, 17,
        0x33, 0x99, 0x01, 0xf0, 0x0f,
    ];
    const WS: [u8; 23] = [
        0x7f, 0x80, 2, 0xff, 7, 0x81, 1, 0, 3, 0x7f, 0x80, 0x80, 0x7f, 0x80, 0x7f, 9, 0x90, 4,
        0x44, 0xaa, 0x02, 0x0e, 0xe0,
    ];

    fn plain(xs: &[u8], ws: &[u8]) -> i32 {
        xs.iter()
            .zip(ws)
            .map(|(&x, &w)| i32::from(w as i8) * i32::from(x as i8))
            .sum()
    }

    #[test]
    fn offset_form_is_the_folded_form_plus_offset_times_weight_sum() {
        for n in 0..=11 {
            let (xs, ws) = (&XS[..n], &WS[..n]);
            let sum: i32 = ws.iter().map(|&w| i32::from(w as i8)).sum();
            assert_eq!(
                dot_with_offset(xs, ws, 17),
                plain(xs, ws) + 17 * sum,
                "n = {n}"
            );
        }
    }

    #[test]
    fn block_sums_every_row_of_every_position_and_channel() {
        let cases = [(1, 1, 1, 2), (3, 2, 2, 5), (4, 1, 0, 0), (2, 3, 3, 5)];
        for ((len, rows, x_step, w_step), positions) in cases.into_iter().zip([3, 2, 3, 2]) {
            let b = Block3x4 {
                x_step,
                x_row_step: 7,
                w_step,
                rows,
                len,
                positions,
            };
            let mut acc = [99; 12];
            dot_3x4(&XS, &WS, &b, &mut acc);
            for p in 0..positions {
                for k in 0..4 {
                    let want: i32 = (0..rows)
                        .map(|r| {
                            let x = &XS[p * x_step + r * 7..][..len];
                            plain(x, &WS[k * w_step + r * len..][..len])
                        })
                        .sum();
                    assert_eq!(acc[4 * p + k], want, "{b:?} p {p} k {k}");
                }
            }
        }
    }
}
