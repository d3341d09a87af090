//! Inference placeholder until harbor-core's int8 interpreter is wired in.

/// Classes the placeholder produces (the band's HAR label set has six).
pub const CLASSES: usize = 6;

/// `checksum` op, a stand-in with a known answer: logit `c` is the sum of the input bytes
/// at positions `i ≡ c (mod 6)`, saturated to int8; the prediction is the index of the first largest logit.
/// It is not a model: it only exercises the path (input in, logits out, counters).
pub fn checksum_op(input: &[u8], logits: &mut [i8; CLASSES]) -> u8 {
    let mut sums = [0i32; CLASSES];
    for (i, &b) in input.iter().enumerate() {
        sums[i % CLASSES] += i32::from(b as i8);
    }
    for (logit, sum) in logits.iter_mut().zip(sums) {
        *logit = sum.clamp(-128, 127) as i8;
    }
    let mut best = 0;
    for (c, &logit) in logits.iter().enumerate() {
        if logit > logits[best] {
            best = c;
        }
    }
    best as u8
}
