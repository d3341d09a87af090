//! RESD writer against the spec: hand-assembled golden bytes, the reader, error cases and a
//! property round trip. Byte layout sources: docs/renode.md.

use std::path::Path;

use harbor::board::ImuSpec;
use harbor::dut::renode::convert::{ImuSegment, ResdLayout, ResdScale, build, period_ns};
use harbor::dut::renode::resd::{Block, ResdError, ResdFile, SampleType};
use harbor::signal::Rate;
use proptest::prelude::*;

/// LSM6DSO at ±4 g / ±500 dps with its datasheet sensitivities (DS12140 Table 3):
/// 0.122 mg/LSB = 122 µg/LSB, 17.5 mdps/LSB.
fn lsm6dso() -> ImuSpec {
    ImuSpec {
        odr_hz: 25.0,
        bits: 16,
        accel_range_g: 4.0,
        gyro_range_dps: 500.0,
        accel_sensitivity_mg_per_lsb: Some(0.122),
        gyro_sensitivity_mdps_per_lsb: Some(17.5),
    }
}

fn rate(hz: f64) -> Rate {
    Rate::from_hz(hz, "test").unwrap()
}

#[rustfmt::skip]
const GOLDEN: [u8; 130] = [
    // File header: "RESD", version 0x01, 3 reserved zero bytes.
    b'R', b'E', b'S', b'D', 0x01, 0x00, 0x00, 0x00,
    // Block 1 header: type 0x02 (constant frequency), sample type 0x0002 (acceleration, u16 LE),
    // channel 0 (u16 LE), data size u64 LE = 16 (start + period) + 8 (metadata size) + 2 × 12 = 48 = 0x30.
    0x02, 0x02, 0x00, 0x00, 0x00, 0x30, 0, 0, 0, 0, 0, 0, 0,
    // Subheader: start time 100 000 000 ns = 0x05F5E100, period 40 000 000 ns (25 Hz) = 0x02625A00.
    0x00, 0xE1, 0xF5, 0x05, 0, 0, 0, 0,
    0x00, 0x5A, 0x62, 0x02, 0, 0, 0, 0,
    // Metadata size 0.
    0, 0, 0, 0, 0, 0, 0, 0,
    // Sample 0, raw (1, -1, 8197) × 122 µg: 122 = 0x7A, -122 = 0xFFFFFF86, 1 000 034 = 0x000F4262.
    0x7A, 0x00, 0x00, 0x00,  0x86, 0xFF, 0xFF, 0xFF,  0x62, 0x42, 0x0F, 0x00,
    // Sample 1, raw (0, 2, -8197): 0, 244 = 0xF4, -1 000 034 = 0xFFF0BD9E.
    0x00, 0x00, 0x00, 0x00,  0xF4, 0x00, 0x00, 0x00,  0x9E, 0xBD, 0xF0, 0xFF,
    // Block 2 header: constant frequency, sample type 0x0003 (angular rate), channel 0, data size 48.
    0x02, 0x03, 0x00, 0x00, 0x00, 0x30, 0, 0, 0, 0, 0, 0, 0,
    0x00, 0xE1, 0xF5, 0x05, 0, 0, 0, 0,
    0x00, 0x5A, 0x62, 0x02, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0,
    // 17.5 mdps = 17.5e-3 · π/180 rad/s = 30.5433 × 1e-5 rad/s per LSB.
    // Sample 0, raw (1, -1, 0): 30.54 → 31 = 0x1F, -31 = 0xFFFFFFE1, 0.
    0x1F, 0x00, 0x00, 0x00,  0xE1, 0xFF, 0xFF, 0xFF,  0x00, 0x00, 0x00, 0x00,
    // Sample 1, raw (0, 0, 1000): 30 543.26 → 30 543 = 0x774F.
    0x00, 0x00, 0x00, 0x00,  0x00, 0x00, 0x00, 0x00,  0x4F, 0x77, 0x00, 0x00,
];

fn golden_input() -> Vec<[i16; 6]> {
    vec![[1, -1, 8197, 1, -1, 0], [0, 2, -8197, 0, 0, 1000]]
}

fn golden_layout() -> ResdLayout {
    ResdLayout {
        start_ns: 100_000_000,
        ..ResdLayout::default()
    }
}

#[test]
fn two_samples_match_the_hand_assembled_bytes() {
    let raw = golden_input();
    let scale = ResdScale::datasheet(&lsm6dso());
    // The recording's own clock (here 5 s) is irrelevant: virtual time starts at start_ns.
    let segments = [ImuSegment {
        t0_ns: 5_000_000_000,
        raw: &raw,
    }];
    let file = build(&segments, rate(25.0), &scale, &golden_layout()).unwrap();
    let bytes = file.to_bytes().unwrap();
    assert_eq!(bytes.len(), GOLDEN.len());
    for (i, (got, want)) in bytes.iter().zip(GOLDEN.iter()).enumerate() {
        assert_eq!(
            got, want,
            "byte {i}: got 0x{got:02x}, spec says 0x{want:02x}"
        );
    }
}

#[test]
fn the_reader_gives_back_values_and_timestamps() {
    let file = ResdFile::parse(&GOLDEN, Path::new("golden.resd")).unwrap();
    assert_eq!(file.blocks.len(), 2);
    let accel = &file.blocks[0];
    assert_eq!(accel.sample_type, SampleType::Acceleration);
    assert_eq!(
        accel.samples,
        vec![[122, -122, 1_000_034], [0, 244, -1_000_034]]
    );
    assert_eq!(
        (accel.time_ns(0), accel.time_ns(1)),
        (100_000_000, 140_000_000)
    );
    let gyro = &file.blocks[1];
    assert_eq!(gyro.sample_type, SampleType::AngularRate);
    assert_eq!(gyro.samples, vec![[31, -31, 0], [0, 0, 30_543]]);
    // Written to disk and read back: the same file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("imu.resd");
    file.write(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), GOLDEN);
    assert_eq!(ResdFile::read(&path).unwrap(), file);
}

#[test]
fn conversions_round_half_away_from_zero() {
    // 0.0005 mg/LSB = 0.5 µg/LSB: ±1 LSB sits exactly on a half.
    let half = ImuSpec {
        accel_sensitivity_mg_per_lsb: Some(0.0005),
        ..lsm6dso()
    };
    let scale = ResdScale::datasheet(&half);
    assert_eq!(scale.convert(&[1, -1, 3, 0, 0, 0]).unwrap().0, [1, -1, 2]);
    // Gyro at 17.5 mdps/LSB: 2 LSB = 61.09 → 61, -3 LSB = -91.63 → -92.
    let scale = ResdScale::datasheet(&lsm6dso());
    assert_eq!(
        scale.convert(&[0, 0, 0, 2, -3, 28571]).unwrap().1,
        [61, -92, 872_652]
    );
}

#[test]
fn renode_scale_reproduces_raw_readings_through_the_lsm6dso_model() {
    // Renode's LSM6DSO_IMU turns µg into LSB as round(g · 32768 / FS) and 1e-5 rad/s as
    // round(dps · 1000 / 17.5): with its own sensitivities every int16 comes back unchanged.
    let scale = ResdScale::renode_lsm6dso(&lsm6dso()).unwrap();
    for raw in [i16::MIN + 1, -8197, -1, 0, 1, 8197, i16::MAX] {
        let (a, _) = scale.convert(&[raw, 0, 0, 0, 0, 0]).unwrap();
        assert_eq!((f64::from(a[0]) / 1e6 * 32768.0 / 4.0).round() as i16, raw);
        let g_raw = raw.clamp(-28571, 28571);
        let (_, g) = scale.convert(&[0, 0, 0, g_raw, 0, 0]).unwrap();
        let dps = f64::from(g[0]) / 1e5 * 180.0 / std::f64::consts::PI;
        assert_eq!((dps * 1000.0 / 17.5).round() as i16, g_raw);
    }
    // The datasheet 122 µg/LSB would come back one LSB low at full scale in that model.
    let datasheet = ResdScale::datasheet(&lsm6dso());
    let (a, _) = datasheet.convert(&[i16::MAX, 0, 0, 0, 0, 0]).unwrap();
    assert_eq!((f64::from(a[0]) / 1e6 * 8192.0).round() as i32, 32748);
    let odd = ImuSpec {
        accel_range_g: 3.0,
        ..lsm6dso()
    };
    assert!(
        ResdScale::renode_lsm6dso(&odd)
            .unwrap_err()
            .to_string()
            .contains("±3 g")
    );
}

#[test]
fn gaps_become_separate_blocks_at_their_virtual_times() {
    let a = vec![[1i16; 6]; 3];
    let b = vec![[2i16; 6]; 2];
    // Second segment starts 10 s after the first on the recording's clock.
    let segments = [
        ImuSegment {
            t0_ns: 7_000,
            raw: &a,
        },
        ImuSegment {
            t0_ns: 10_000_007_000,
            raw: &b,
        },
    ];
    let file = build(
        &segments,
        rate(25.0),
        &ResdScale::datasheet(&lsm6dso()),
        &golden_layout(),
    )
    .unwrap();
    let starts: Vec<(SampleType, u64, usize)> = file
        .blocks
        .iter()
        .map(|b| (b.sample_type, b.start_ns, b.samples.len()))
        .collect();
    assert_eq!(
        starts,
        [
            (SampleType::Acceleration, 100_000_000, 3),
            (SampleType::AngularRate, 100_000_000, 3),
            (SampleType::Acceleration, 10_100_000_000, 2),
            (SampleType::AngularRate, 10_100_000_000, 2),
        ]
    );
    // Overlapping segments are an error naming both.
    let overlap = [
        ImuSegment { t0_ns: 0, raw: &a },
        ImuSegment {
            t0_ns: 80_000_000,
            raw: &b,
        },
    ];
    let err = build(
        &overlap,
        rate(25.0),
        &ResdScale::datasheet(&lsm6dso()),
        &ResdLayout::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("segment 1") && err.to_string().contains("segment 0"),
        "{err}"
    );
}

#[test]
fn rates_without_a_whole_ns_period_split_before_drifting() {
    // 26 Hz: 38 461 538 + 6/13 ns; the rounded period 38 461 538 falls behind by 6/13 ns per
    // sample, so sample k of a block is off by ⌊6k/13⌋ ns, which first exceeds 1 µs at
    // k = ⌈1001 · 13/6⌉ = 2169: blocks of 2169 samples (0..=2168).
    let r = rate(26.0);
    assert_eq!(period_ns(r), 38_461_538);
    let raw = vec![[0i16; 6]; 5000];
    let file = build(
        &[ImuSegment {
            t0_ns: 0,
            raw: &raw,
        }],
        r,
        &ResdScale::datasheet(&lsm6dso()),
        &ResdLayout::default(),
    )
    .unwrap();
    let accel: Vec<&Block> = file
        .blocks
        .iter()
        .filter(|b| b.sample_type == SampleType::Acceleration)
        .collect();
    assert_eq!(
        accel.iter().map(|b| b.samples.len()).collect::<Vec<_>>(),
        [2169, 2169, 662]
    );
    let mut k = 0u64;
    for block in accel {
        for j in 0..block.samples.len() {
            assert!(
                block.time_ns(j).abs_diff(r.offset_ns(k) as u64) <= 1_000,
                "sample {k}"
            );
            k += 1;
        }
    }
}

fn format_error(bytes: &[u8]) -> (usize, String) {
    match ResdFile::parse(bytes, Path::new("bad.resd")).unwrap_err() {
        ResdError::Format {
            path,
            offset,
            reason,
        } => {
            assert_eq!(path, Path::new("bad.resd"));
            (offset, reason)
        }
        other => panic!("expected a format error, got {other}"),
    }
}

#[test]
fn malformed_files_are_errors_with_their_offset() {
    let mut bad = GOLDEN;
    bad[0] = b'X';
    assert_eq!(format_error(&bad).0, 0);
    let mut bad = GOLDEN;
    bad[4] = 2;
    assert!(format_error(&bad).1.contains("version 2"));
    let mut bad = GOLDEN;
    bad[8] = 0x01;
    let (offset, reason) = format_error(&bad);
    assert_eq!(offset, 8);
    assert!(reason.contains("arbitrary-timestamp"), "{reason}");
    let mut bad = GOLDEN;
    bad[9] = 0x01;
    assert!(format_error(&bad).1.contains("0x0001"));
    // Truncated inside the second block: its data size runs past the end.
    let (offset, reason) = format_error(&GOLDEN[..GOLDEN.len() - 1]);
    assert_eq!(offset, 8 + 61 + 5);
    assert!(reason.contains("past the end"), "{reason}");
    // A data size that is not whole samples.
    let mut bad = GOLDEN[..8 + 61].to_vec();
    bad[13] = 0x2F;
    bad.pop();
    assert!(format_error(&bad).1.contains("not whole 12-byte samples"));
    // Empty files and header-only files.
    assert!(format_error(&[]).1.contains("truncated"));
    assert_eq!(
        ResdFile::parse(&GOLDEN[..8], Path::new("x"))
            .unwrap()
            .blocks
            .len(),
        0
    );
}

#[test]
fn period_zero_is_refused_for_several_samples() {
    let block = Block {
        sample_type: SampleType::Acceleration,
        channel: 0,
        start_ns: 0,
        period_ns: 0,
        samples: vec![[0; 3]; 2],
    };
    let err = ResdFile {
        blocks: vec![block],
    }
    .to_bytes()
    .unwrap_err();
    assert!(err.to_string().contains("period 0"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn round_trip_keeps_every_sample_and_time(
        segs in prop::collection::vec((1u64..5_000_000_000, prop::collection::vec(any::<[i16; 6]>(), 1..40)), 1..4),
        hz in prop::sample::select(vec![25.0, 26.0, 50.0, 30.0, 104.0]),
        start_ns in 0u64..1_000_000_000,
    ) {
        let r = rate(hz);
        let imu = lsm6dso();
        let scale = ResdScale::datasheet(&imu);
        // Lay segments end to end with the generated gaps.
        let mut t0 = 0i64;
        let mut segments = Vec::new();
        for (gap, raw) in &segs {
            t0 += *gap as i64;
            segments.push(ImuSegment { t0_ns: t0, raw });
            t0 += r.offset_ns(raw.len() as u64 - 1);
        }
        let layout = ResdLayout { start_ns, ..ResdLayout::default() };
        let file = build(&segments, r, &scale, &layout).unwrap();
        let back = ResdFile::parse(&file.to_bytes().unwrap(), Path::new("prop.resd")).unwrap();
        prop_assert_eq!(&back, &file);

        // Walk the blocks in order: each sample at its exact time (±1 µs), values the
        // rounded conversion, and the raw reading recoverable by dividing back.
        let origin = segments[0].t0_ns;
        let mut expected = Vec::new();
        for seg in &segments {
            for (k, raw) in seg.raw.iter().enumerate() {
                expected.push((start_ns + (seg.t0_ns - origin + r.offset_ns(k as u64)) as u64, *raw));
            }
        }
        for ty in [SampleType::Acceleration, SampleType::AngularRate] {
            let got: Vec<(u64, [i32; 3])> = back.blocks.iter().filter(|b| b.sample_type == ty)
                .flat_map(|b| (0..b.samples.len()).map(move |j| (b.time_ns(j), b.samples[j]))).collect();
            prop_assert_eq!(got.len(), expected.len());
            for ((t, v), (t_exact, raw)) in got.iter().zip(&expected) {
                prop_assert!(t.abs_diff(*t_exact) <= 1_000, "{} vs {}", t, t_exact);
                let (axes, per_lsb) = match ty {
                    SampleType::Acceleration => (&raw[0..3], scale.accel_ug_per_lsb),
                    SampleType::AngularRate => (&raw[3..6], scale.gyro_units_per_lsb),
                };
                for (axis, value) in axes.iter().zip(v) {
                    prop_assert_eq!(*value as f64, (f64::from(*axis) * per_lsb).round());
                    prop_assert_eq!((f64::from(*value) / per_lsb).round() as i16, *axis);
                }
            }
        }
    }
}
