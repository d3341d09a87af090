//! The multiply-accumulate loop every int8 kernel spends its time in.

/// `Σ w[i] · (x[i] + x_offset)` over int8 bytes, i32 accumulation.
///
/// Unrolled by four: on RV32IMC this is ~5–6 instructions per multiply-accumulate instead of
/// ~8 for the plain loop (bounds checks disappear with `chunks_exact`). Integer sums are
/// exact, so the order of accumulation does not change the result.
#[inline]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_plain_definition_for_every_tail_length() {
        let xs: [u8; 11] = [0x80, 0x7f, 0, 1, 0xff, 3, 0x81, 9, 0x40, 0xc0, 5];
        let ws: [u8; 11] = [0x7f, 0x80, 2, 0xff, 7, 0x81, 1, 0, 3, 0x7f, 0x80];
        for n in 0..=11 {
            let plain: i32 = (0..n)
                .map(|i| i32::from(ws[i] as i8) * (i32::from(xs[i] as i8) + 17))
                .sum();
            assert_eq!(dot_with_offset(&xs[..n], &ws[..n], 17), plain, "n = {n}");
        }
    }
}
