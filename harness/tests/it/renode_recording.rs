//! A real recording (the WISDM 2019 phone excerpt in fixtures/) to RESD: the blocks hold
//! exactly the int16 readings the signal chain gives the firmware, at their times.

use harbor::board::BoardProfile;
use harbor::datasets::{self, DatasetKind, LoadOptions, NoProgress};
use harbor::dut::renode::convert::{ResdLayout, ResdScale, from_recording};
use harbor::dut::renode::resd::{ResdFile, SampleType};
use harbor::signal::quantize::{ClipCounts, ImuQuantizer};
use harbor::signal::resample::resample;
use harbor::signal::{Rate, ResampleConfig, WindowSpec, prepare};

#[test]
fn wisdm_fixture_becomes_blocks_of_the_firmware_readings() {
    let root = datasets::workspace_root().join("fixtures/wisdm2019");
    let loaded = datasets::load(
        DatasetKind::Wisdm2019Phone,
        &root,
        &LoadOptions::default(),
        &NoProgress,
    )
    .unwrap_or_else(|e| panic!("WISDM 2019 fixture: {e}"));
    assert!(!loaded.recordings.is_empty());
    let board = BoardProfile::load(BoardProfile::DEFAULT).unwrap();
    let cfg = ResampleConfig::default();
    let scale = ResdScale::renode_lsm6dso(&board.imu).unwrap();
    let layout = ResdLayout {
        start_ns: 50_000_000,
        ..ResdLayout::default()
    };
    let rate = Rate::from_hz(board.imu.odr_hz, "imu.odr_hz").unwrap();
    let quantizer = ImuQuantizer::new(&board.imu).unwrap();

    let mut total_samples = 0u64;
    for rec in &loaded.recordings {
        let (file, _clipped) = from_recording(rec, &board, &cfg, &scale, &layout).unwrap();
        // Through bytes and back, as Renode would read it.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rec.resd");
        file.write(&path).unwrap();
        let back = ResdFile::read(&path).unwrap();
        assert_eq!(back, file);

        // The signal chain, run here directly: resample, then the firmware's int16 readings.
        let resampled = resample(rec, rate, &cfg).unwrap();
        let origin = resampled.segments[0].t0_ns;
        let mut expected = Vec::new();
        let mut clipped = ClipCounts::default();
        for seg in &resampled.segments {
            for (k, v) in seg.values.iter().enumerate() {
                let t = layout.start_ns + (seg.t0_ns - origin + rate.offset_ns(k as u64)) as u64;
                expected.push((t, quantizer.quantize(v, &mut clipped)));
            }
        }
        for ty in [SampleType::Acceleration, SampleType::AngularRate] {
            let got: Vec<(u64, [i32; 3])> = back
                .blocks
                .iter()
                .filter(|b| b.sample_type == ty)
                .flat_map(|b| (0..b.samples.len()).map(move |j| (b.time_ns(j), b.samples[j])))
                .collect();
            assert_eq!(got.len(), expected.len(), "{}: {ty:?}", rec.subject);
            for ((t, v), (t_exact, raw)) in got.iter().zip(&expected) {
                assert_eq!(t, t_exact, "25 Hz has a whole-ns period: times are exact");
                let (a, g) = scale.convert(raw).unwrap();
                assert_eq!(*v, if ty == SampleType::Acceleration { a } else { g });
            }
        }
        // One accel and one gyro block per gap-free segment.
        assert_eq!(back.blocks.len(), 2 * resampled.segments.len());
        total_samples += expected.len() as u64;
    }
    // `harbor prepare` counts the same IMU-rate samples.
    let prepared = prepare(
        &loaded.recordings,
        &board,
        &WindowSpec::default(),
        &cfg,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(prepared.report.samples_imu, total_samples);
}
