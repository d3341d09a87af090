//! The golden-vector file format (`fixtures/models/*.golden`, written by
//! `models/tools/make_golden.py`): reference int8 inputs and TFLite Micro's int8 outputs.
//!
//! Layout, little-endian: magic `HGLD`, then u32 `count`, `input_len`, `output_len`, then
//! `count` records of `input_len` input bytes followed by `output_len` output bytes (int8).
//! Parsed in place, without allocation, so host tests and firmware-side checks share it.

/// A parsed golden file, borrowing its bytes.
#[derive(Clone, Copy, Debug)]
pub struct GoldenVectors<'a> {
    /// Bytes of one record's int8 input.
    pub input_len: usize,
    /// Bytes of one record's int8 reference output.
    pub output_len: usize,
    body: &'a [u8],
}

/// Why a golden file could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoldenError {
    /// The file does not start with `HGLD` or is shorter than the header.
    BadMagic,
    /// The body is not `count` whole records.
    Truncated {
        /// Body bytes the header's count and lengths call for.
        expected: usize,
        /// Body bytes present.
        actual: usize,
    },
}

impl core::fmt::Display for GoldenError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            GoldenError::BadMagic => f.write_str("not a golden-vector file (magic HGLD missing)"),
            GoldenError::Truncated { expected, actual } => {
                write!(
                    f,
                    "truncated: {actual} body bytes, the header promises {expected}"
                )
            }
        }
    }
}

const HEADER_LEN: usize = 16;

impl<'a> GoldenVectors<'a> {
    /// Checks the header and the body length; the records are read in place.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, GoldenError> {
        if bytes.len() < HEADER_LEN || &bytes[..4] != b"HGLD" {
            return Err(GoldenError::BadMagic);
        }
        let word = |i: usize| {
            let at = 4 + 4 * i;
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
        };
        let (count, input_len, output_len) = (word(0), word(1), word(2));
        let body = &bytes[HEADER_LEN..];
        let expected = count.saturating_mul(input_len.saturating_add(output_len));
        if body.len() != expected || input_len + output_len == 0 {
            return Err(GoldenError::Truncated {
                expected,
                actual: body.len(),
            });
        }
        Ok(GoldenVectors {
            input_len,
            output_len,
            body,
        })
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.body.len() / (self.input_len + self.output_len)
    }

    /// Whether the file holds no records.
    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }

    /// Each record's (input, expected output) as raw bytes; reinterpret them as int8.
    pub fn records(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        let input_len = self.input_len;
        self.body
            .chunks_exact(self.input_len + self.output_len)
            .map(move |r| r.split_at(input_len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_records_and_rejects_bad_files() {
        let mut file = b"HGLD".to_vec();
        for w in [2u32, 3, 1] {
            file.extend_from_slice(&w.to_le_bytes());
        }
        file.extend_from_slice(&[1, 2, 3, 0xFF, 4, 5, 6, 0x80]);
        let g = GoldenVectors::parse(&file).unwrap();
        assert_eq!((g.len(), g.input_len, g.output_len), (2, 3, 1));
        let records: [(&[u8], &[u8]); 2] = [(&[1, 2, 3], &[0xFF]), (&[4, 5, 6], &[0x80])];
        assert!(g.records().eq(records));
        assert_eq!(
            GoldenVectors::parse(&file[..file.len() - 1]).unwrap_err(),
            GoldenError::Truncated {
                expected: 8,
                actual: 7
            }
        );
        assert_eq!(
            GoldenVectors::parse(b"HGL").unwrap_err(),
            GoldenError::BadMagic
        );
        assert_eq!(
            GoldenVectors::parse(b"XGLD000011112222").unwrap_err(),
            GoldenError::BadMagic
        );
    }
}
