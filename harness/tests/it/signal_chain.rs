//! Quantization, windowing and the whole `prepare` chain on synthetic recordings whose
//! expected outcome follows from the datasheet and the window arithmetic.

use harbor::board::BoardProfile;
use harbor::datasets::{Activity, BodyPosition, NoProgress, Recording};
use harbor::signal::quantize::{ClipCounts, ImuQuantizer};
use harbor::signal::window::{ModelSegment, WindowCounts, Windows, cut};
use harbor::signal::{GapThreshold, ResampleConfig, WindowSpec, prepare};

const G: f32 = 9.80665;

fn band() -> BoardProfile {
    BoardProfile::load(BoardProfile::DEFAULT).unwrap()
}

#[test]
fn quantizer_uses_the_datasheet_sensitivity_and_counts_clipping_per_axis() {
    let q = ImuQuantizer::new(&band().imu).unwrap();
    let mut clipped = ClipCounts::default();
    // 1 g at 0.122 mg/LSB is 1000/0.122 = 8196.7 → 8197 LSB; 1 rad/s at 17.5 mdps/LSB is
    // 57295.8/17.5 = 3274.0 LSB.
    let raw = q.quantize(&[0.0, -G, G, 1.0, -1.0, 0.0], &mut clipped);
    assert_eq!(raw, [0, -8197, 8197, 3274, -3274, 0]);
    assert_eq!(clipped.total(), 0);
    // 5 g exceeds ±4 g: the register's 32767 (4 g is 32787 LSB, beyond 16 bits). 10 rad/s is
    // 573 dps > 500 dps full scale: 28571 LSB.
    let raw = q.quantize(
        &[5.0 * G, -5.0 * G, 3.9 * G, 10.0, -10.0, 8.0],
        &mut clipped,
    );
    assert_eq!(raw, [32767, -32767, 31967, 28571, -28571, 26192]);
    assert_eq!(
        clipped,
        ClipCounts {
            ax: 1,
            ay: 1,
            az: 0,
            gx: 1,
            gy: 1,
            gz: 0
        }
    );
    // Dequantizing gives the LSB-rounded physical value back.
    let back = q.dequantize(&[8197, 0, 0, 3274, 0, 0]);
    assert!((back[0] - G).abs() < 0.0012 / 2.0 + 1e-6, "{back:?}");
    assert!((back[3] - 1.0).abs() < 0.000305 / 2.0 + 1e-6, "{back:?}");
}

fn activities() -> Vec<Activity> {
    vec![
        Activity::Walking,
        Activity::Sitting,
        Activity::Unlabelled,
        Activity::Transition("sit_to_stand".into()),
    ]
}

fn cut_labels(labels: &[u16], length: usize, hop: usize) -> (Windows, WindowCounts) {
    let n = labels.len();
    let t: Vec<i64> = (0..n as i64).map(|i| i * 50_000_000).collect();
    let raw: Vec<[i16; 6]> = (0..n).map(|i| [i as i16; 6]).collect();
    let physical: Vec<[f32; 6]> = (0..n).map(|i| [i as f32; 6]).collect();
    let acts = activities();
    let seg = ModelSegment {
        source: 0,
        t_ns: &t,
        raw: &raw,
        physical: &physical,
        labels,
        activities: &acts,
    };
    let mut out = Windows {
        length,
        ..Windows::default()
    };
    let mut counts = WindowCounts::default();
    cut(
        &seg,
        length,
        hop,
        &WindowSpec::default(),
        &mut out,
        &mut counts,
        &mut Vec::new(),
    );
    (out, counts)
}

#[test]
fn windows_hop_and_are_labelled_by_majority_with_purity() {
    // 200 samples, T = 60, hop 30: starts 0, 30, ..., 140 → 5 windows.
    let mut labels = vec![0u16; 200];
    // Samples 100..200 sitting: window 60..120 has 40 walking / 20 sitting (purity 0.67 →
    // dropped), 90..150 has 10/50 (sitting 0.83 kept), 30..90 is pure walking.
    labels[100..].fill(1);
    let (w, c) = cut_labels(&labels, 60, 30);
    assert_eq!(
        c,
        WindowCounts {
            kept: 4,
            impure: 1,
            unlabelled: 0,
            transition: 0,
            short_segments: 0
        }
    );
    let kept: Vec<(i64, &str)> = w
        .info
        .iter()
        .map(|i| (i.start_ns / 50_000_000, i.activity.name()))
        .collect();
    assert_eq!(
        kept,
        [
            (0, "walking"),
            (30, "walking"),
            (90, "sitting"),
            (120, "sitting")
        ]
    );
    // The stored samples are the window's own.
    assert_eq!(w.raw(2)[0], [90; 6]);
    assert_eq!(w.physical(3)[59], [179.0; 6]);
}

#[test]
fn unlabelled_and_transition_majorities_are_dropped_and_counted() {
    let mut labels = vec![2u16; 60]; // unlabelled
    labels.extend([3u16; 60]); // transition
    labels.extend([0u16; 59]); // too short for the last window
    let (w, c) = cut_labels(&labels, 60, 60);
    assert_eq!(
        c,
        WindowCounts {
            kept: 0,
            impure: 0,
            unlabelled: 1,
            transition: 1,
            short_segments: 0
        }
    );
    assert!(w.is_empty());
    let (_, c) = cut_labels(&[0u16; 59], 60, 30);
    assert_eq!(c.short_segments, 1);
}

fn still_recording(subject: &str, seconds: f64, gap_at_s: Option<f64>) -> Recording {
    // 20 Hz, band flat on a table: +1 g on z, gyro zero; one label.
    let mut t: Vec<i64> = (0..(seconds * 20.0) as i64)
        .map(|i| 5_000_000_000 + i * 50_000_000)
        .collect();
    if let Some(at) = gap_at_s {
        let at = (at * 20.0) as usize;
        t[at..].iter_mut().for_each(|x| *x += 5_000_000_000);
    }
    let n = t.len();
    Recording {
        dataset: "synthetic".into(),
        subject: subject.into(),
        session: "table".into(),
        position: BodyPosition::Wrist,
        sources: vec![format!("{subject}.txt").into()],
        nominal_rate_hz: 20.0,
        t_ns: t,
        accel: vec![[0.0, 0.0, G]; n],
        gyro: Some(vec![[0.0; 3]; n]),
        labels: vec![0; n],
        activities: vec![Activity::Sitting],
    }
}

#[test]
fn prepare_keeps_gravity_exact_through_every_stage() {
    let recs = [
        still_recording("1", 60.0, Some(30.0)),
        still_recording("2", 20.0, None),
    ];
    let p = prepare(
        &recs,
        &band(),
        &WindowSpec::default(),
        &ResampleConfig::default(),
        &NoProgress,
    )
    .unwrap();
    let r = &p.report;
    assert_eq!((r.recordings, r.segments, r.gaps_split), (2, 3, 1));
    assert_eq!(r.samples_in, 1600);
    // Segments of 600, 600 and 400 inputs span 29.95 s, 29.95 s, 19.95 s: 748+1, 748+1, 498+1
    // IMU samples at 40 ms (29.95 / 0.04 = 748.75).
    assert_eq!(r.samples_imu, 749 + 749 + 499);
    // DC is exact in every stage: 1 g is 8197 LSB on z in every sample of every window.
    assert!(p.windows.raw.iter().all(|s| *s == [0, 0, 8197, 0, 0, 0]));
    let z = (8197.0 * 0.122e-3 * 9.80665) as f32;
    assert!(
        p.windows
            .physical
            .iter()
            .all(|s| (s[2] - z).abs() < 1e-5 && s[0] == 0.0)
    );
    // Model samples: the converter delays by 63.5 prototype samples (0.635 s), so of each
    // segment's outputs at 50 ms those from 0.65 s up to the end of the IMU data are kept;
    // windows of 60 every 30 fit floor((m − 60)/30) + 1 times.
    let windows_for = |imu: u64| {
        let outputs = (imu * 4).div_ceil(5);
        let m = (0..outputs)
            .filter(|&n| n as i64 * 50_000_000 >= 635_000_000)
            .count() as u64;
        (m - 60) / 30 + 1
    };
    let expected = 2 * windows_for(749) + windows_for(499);
    assert_eq!(r.windows.kept, expected);
    assert_eq!(p.windows.len() as u64, expected);
    assert_eq!(r.per_class.get("sitting"), Some(&expected));
    assert_eq!(r.clipped.total(), 0);
    // Windows never cross the gap: recording 1's windows all end before 35 s or start after.
    let gap_start = 5_000_000_000 + 600 * 50_000_000;
    for (i, w) in p
        .windows
        .info
        .iter()
        .enumerate()
        .filter(|(i, _)| p.windows.source(*i).subject == "1")
    {
        let end = w.start_ns + 59 * 50_000_000;
        assert!(
            end < gap_start || w.start_ns > gap_start + 5_000_000_000,
            "window {i} spans the gap"
        );
    }
    let text = r.to_string();
    assert!(
        text.contains("sitting") && text.contains("gaps split"),
        "{text}"
    );
    serde_json::to_string(r).unwrap();
}

#[test]
fn prepare_matches_the_firmware_converter_bit_for_bit() {
    // A moving signal: the host's model-rate samples must equal running harbor-core's
    // converter over the quantized IMU stream, as the firmware will.
    let mut rec = still_recording("1", 40.0, None);
    for (i, a) in rec.accel.iter_mut().enumerate() {
        a[0] = (i as f32 * 0.3).sin() * 12.0;
    }
    let spec = WindowSpec {
        overlap: 0.0,
        ..WindowSpec::default()
    };
    let cfg = ResampleConfig {
        max_gap: GapThreshold::Seconds(1.0),
        ..ResampleConfig::default()
    };
    let p = prepare(&[rec.clone()], &band(), &spec, &cfg, &NoProgress).unwrap();
    let q = ImuQuantizer::new(&band().imu).unwrap();
    let imu = harbor::signal::resample::resample(
        &rec,
        harbor::signal::Rate::from_hz(25.0, "t").unwrap(),
        &cfg,
    )
    .unwrap();
    let raw: Vec<[i16; 6]> = imu.segments[0]
        .values
        .iter()
        .map(|v| q.quantize(v, &mut ClipCounts::default()))
        .collect();
    let mut conv = harbor_core::rate::RateConverter::new(&harbor_core::rate::IMU25_TO_MODEL20);
    let mut model = Vec::new();
    raw.iter().for_each(|&s| conv.push(s, |y| model.push(y)));
    // The first kept model sample is output 13 (13 × 50 ms ≥ 635 ms delay).
    let first = 13;
    assert!(p.windows.len() >= 10);
    for w in 0..p.windows.len() {
        assert_eq!(
            p.windows.raw(w),
            &model[first + 60 * w..first + 60 * (w + 1)],
            "window {w}"
        );
    }
}

#[test]
fn bad_window_specs_are_named() {
    let recs = [still_recording("1", 10.0, None)];
    for (spec, what) in [
        (
            WindowSpec {
                overlap: 1.0,
                ..WindowSpec::default()
            },
            "overlap",
        ),
        (
            WindowSpec {
                purity: 0.0,
                ..WindowSpec::default()
            },
            "purity",
        ),
        (
            WindowSpec {
                rate_hz: -1.0,
                ..WindowSpec::default()
            },
            "rate",
        ),
        (
            WindowSpec {
                rate_hz: 17.3,
                ..WindowSpec::default()
            },
            "ratio",
        ),
    ] {
        let err = prepare(
            &recs,
            &band(),
            &spec,
            &ResampleConfig::default(),
            &NoProgress,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains(what), "{what}: {err}");
    }
}

#[test]
fn other_imu_rates_use_a_run_time_design_and_keep_dc_exact() {
    // 26 Hz → 20 Hz is 10/13, 50 Hz → 20 Hz is 2/5, 20 Hz → 20 Hz passes through.
    for odr in [26.0, 50.0, 20.0] {
        let mut board = band();
        board.imu.odr_hz = odr;
        let recs = [still_recording("1", 30.0, None)];
        let p = prepare(
            &recs,
            &board,
            &WindowSpec::default(),
            &ResampleConfig::default(),
            &NoProgress,
        )
        .unwrap();
        assert!(
            p.windows.len() >= 15,
            "{odr} Hz: {} windows",
            p.windows.len()
        );
        assert!(
            p.windows.raw.iter().all(|s| *s == [0, 0, 8197, 0, 0, 0]),
            "{odr} Hz"
        );
        // Window starts stay on the recording's clock and within it.
        let (t0, t_end) = (recs[0].t_ns[0], recs[0].t_ns[recs[0].len() - 1]);
        assert!(
            p.windows
                .info
                .iter()
                .all(|w| w.start_ns >= t0 && w.start_ns + 59 * 50_000_000 <= t_end),
            "{odr} Hz"
        );
    }
}

#[test]
fn recordings_without_gyro_get_zero_gyro_axes_and_are_counted() {
    let mut rec = still_recording("1", 20.0, None);
    rec.gyro = None;
    let p = prepare(
        &[rec],
        &band(),
        &WindowSpec::default(),
        &ResampleConfig::default(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(p.report.recordings_without_gyro, 1);
    assert!(!p.windows.is_empty());
    assert!(p.windows.raw.iter().all(|s| s[3..] == [0, 0, 0]));
}
