//! Stream mode in QEMU: raw IMU samples at the band's rate in, windows inferred on the
//! device out — bit-identical to tensor mode's host-prepared windows, whether the samples
//! cross the UART in StreamSamples frames (a real board's path) or the shared-RAM mailbox.

use std::path::Path;

use harbor::board::BoardProfile;
use harbor::datasets::{self, DatasetKind, LoadOptions, NoProgress, Recording};
use harbor::dut::{BinaryReply, QemuTarget, StreamConfig, StreamWindow, Target, TargetError};
use harbor::model::HostModel;
use harbor::model::card::ModelCard;
use harbor::model::input::device_input_quant;
use harbor::signal::model_rate::ModelRateConverter;
use harbor::signal::resample::resample;
use harbor::signal::{ClipCounts, ImuQuantizer, Rate, ResampleConfig, WindowSpec, prepare};
use harbor_core::protocol::{ErrorCause, MessageType, Request, mailbox};

const MODEL: &str = "small-int8-generalized";
/// Input samples of the recording streamed: 2 minutes of 20 Hz WISDM watch data.
const RECORDING_SAMPLES: usize = 2400;

fn model_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models")
        .join(MODEL)
}

/// The first two minutes of a held-out WISDM 2019 watch subject (1617).
fn recording() -> Recording {
    let root = datasets::data_root().join("wisdm2019");
    let opts = LoadOptions {
        subjects: vec!["1617".into()],
        ..LoadOptions::default()
    };
    let loaded = datasets::load(DatasetKind::Wisdm2019Watch, &root, &opts, &NoProgress)
        .unwrap_or_else(|e| panic!("{e} (unpack the datasets with scripts/fetch-data)"));
    let mut rec = loaded.recordings.into_iter().next().expect("subject 1617");
    let n = RECORDING_SAMPLES.min(rec.len());
    rec.t_ns.truncate(n);
    rec.accel.truncate(n);
    if let Some(g) = rec.gyro.as_mut() {
        g.truncate(n);
    }
    rec.labels.truncate(n);
    rec
}

/// One segment as the band's IMU delivers it, and the host's model-rate view of it.
struct Segment {
    t0_ns: i64,
    t_end_ns: i64,
    /// Raw int16 readings at the IMU rate: what StreamSamples carries.
    imu: Vec<[i16; 6]>,
    /// The host converter's output with the primed-history outputs dropped, as
    /// `harbor::signal::prepare` keeps it: tensor-mode windows are cut from this.
    model: Vec<[i16; 6]>,
    /// Converter outputs dropped at the start.
    primed: usize,
}

fn first_segment(
    rec: &Recording,
    board: &BoardProfile,
    spec: &WindowSpec,
    conv: &ModelRateConverter,
) -> Segment {
    let imu_rate = Rate::from_hz(board.imu.odr_hz, "imu.odr_hz").unwrap();
    let resampled = resample(rec, imu_rate, &ResampleConfig::default()).unwrap();
    let seg = resampled
        .segments
        .iter()
        .find(|s| s.values.len() >= 20 * spec.samples().unwrap())
        .expect("a segment long enough for 16 windows");
    let quantizer = ImuQuantizer::new(&board.imu).unwrap();
    let mut clipped = ClipCounts::default();
    let imu: Vec<[i16; 6]> = seg
        .values
        .iter()
        .map(|v| quantizer.quantize(v, &mut clipped))
        .collect();
    let mut model = Vec::new();
    conv.convert(&imu, &mut model);
    let primed = (0..model.len())
        .find(|&n| conv.output_offset_ns(n as u64) >= 0)
        .unwrap();
    model.drain(..primed);
    Segment {
        t0_ns: seg.t0_ns,
        t_end_ns: seg.t_end_ns,
        imu,
        model,
        primed,
    }
}

struct Setup {
    board: BoardProfile,
    spec: WindowSpec,
    conv: ModelRateConverter,
    stream: StreamConfig,
    card: ModelCard,
    host: HostModel,
}

fn setup() -> Setup {
    let board = BoardProfile::load(BoardProfile::DEFAULT).unwrap();
    let spec = WindowSpec::default();
    let imu_rate = Rate::from_hz(board.imu.odr_hz, "imu.odr_hz").unwrap();
    let model_rate = spec.rate().unwrap();
    let conv = ModelRateConverter::new(imu_rate, model_rate).unwrap();
    let (up, down) = model_rate.ratio_to(imu_rate);
    let stream = StreamConfig {
        up: up as u16,
        down: down as u16,
        window_len: spec.samples().unwrap() as u16,
        hop: spec.hop().unwrap() as u16,
    };
    let card = ModelCard::load(&model_dir().join("card.yaml")).unwrap();
    let host = HostModel::load(&model_dir().join("model.tflite")).unwrap();
    Setup {
        board,
        spec,
        conv,
        stream,
        card,
        host,
    }
}

/// How the samples reach the band.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Carrier {
    /// StreamSamples frames over the UART (QEMU's RAM not shared: a real board's path).
    Uart,
    /// MailboxStream through QEMU's shared RAM.
    Mailbox,
}

async fn launch(path: Carrier) -> QemuTarget {
    let mut config = crate::support::qemu::config("band-qemu");
    config.shared_ram = path == Carrier::Mailbox;
    let mut band = QemuTarget::launch(config)
        .await
        .unwrap_or_else(|e| panic!("launching band-qemu: {e}"));
    let info = band.info().await.unwrap();
    assert!(
        info.mailbox && info.mailbox_stream,
        "band-qemu announces both: {info:?}"
    );
    band
}

async fn configured_band(s: &Setup, path: Carrier) -> QemuTarget {
    let mut band = launch(path).await;
    band.load_model(s.host.model_bytes()).await.unwrap();
    let quant = device_input_quant(&s.card.normalization.device_conversion).unwrap();
    band.configure_input(&quant).await.unwrap();
    band.configure_stream(s.stream).await.unwrap();
    assert_eq!(band.streams_through_mailbox(), path == Carrier::Mailbox);
    band
}

#[tokio::test]
async fn stream_mode_windows_are_bit_identical_to_tensor_mode_windows() {
    windows_are_bit_identical_to_tensor_mode(Carrier::Mailbox).await;
}

#[tokio::test]
async fn stream_samples_over_the_uart_are_bit_identical_to_tensor_mode_windows() {
    windows_are_bit_identical_to_tensor_mode(Carrier::Uart).await;
}

async fn windows_are_bit_identical_to_tensor_mode(path: Carrier) {
    let s = setup();
    let rec = recording();
    let seg = first_segment(&rec, &s.board, &s.spec, &s.conv);
    let (len, hop) = (s.spec.samples().unwrap(), s.spec.hop().unwrap());

    let mut band = configured_band(&s, path).await;
    let outcome = band.stream(0, &seg.imu).await.unwrap();
    assert_eq!(outcome.received as usize, seg.imu.len());

    // Every window the host's cutting rule yields, in order, none more.
    let expected_count = harbor_core::window::windows_in(seg.model.len() as u64, len, hop);
    assert_eq!(outcome.windows.len() as u64, expected_count);
    assert!(expected_count >= 16, "{expected_count} windows");
    for (k, w) in outcome.windows.iter().enumerate() {
        assert_eq!(w.index as usize, k);
    }

    // Host: the same samples → the training code's conversion → the host interpreter.
    let reference = &s.card.normalization.device_conversion;
    let host_windows: Vec<Vec<i8>> = (0..outcome.windows.len())
        .map(|k| {
            seg.model[k * hop..k * hop + len]
                .iter()
                .flat_map(|sample| (0..6).map(move |c| reference.quantize(c, i32::from(sample[c]))))
                .collect()
        })
        .collect();
    let host = s
        .host
        .run_quantized(host_windows.iter().map(Vec::as_slice))
        .unwrap();
    let mismatches: Vec<String> = outcome
        .windows
        .iter()
        .zip(&host)
        .filter(|(d, h)| {
            d.inference.logits != h.quantized || usize::from(d.inference.predicted) != h.class
        })
        .map(|(d, h)| {
            format!(
                "window {}: band {:?} host {:?}",
                d.index, d.inference.logits, h.quantized
            )
        })
        .collect();
    assert!(
        mismatches.is_empty(),
        "{} of {} windows differ: {:#?}",
        mismatches.len(),
        host.len(),
        &mismatches[..mismatches.len().min(3)]
    );

    // Tensor mode's own windows (harbor::signal::prepare on the same recording): every kept
    // window of this segment is one of the band's, sample for sample.
    let prepared = prepare(
        std::slice::from_ref(&rec),
        &s.board,
        &s.spec,
        &ResampleConfig::default(),
        &NoProgress,
    )
    .unwrap();
    let mut matched = 0;
    for (i, info) in prepared.windows.info.iter().enumerate() {
        if info.start_ns < seg.t0_ns || info.start_ns > seg.t_end_ns {
            continue;
        }
        let k = (0..outcome.windows.len())
            .find(|&k| {
                seg.t0_ns + s.conv.output_offset_ns((seg.primed + k * hop) as u64) == info.start_ns
            })
            .unwrap_or_else(|| {
                panic!(
                    "tensor window {i} at {} ns has no stream window",
                    info.start_ns
                )
            });
        assert_eq!(
            prepared.windows.raw(i),
            &seg.model[k * hop..k * hop + len],
            "window {k}"
        );
        matched += 1;
    }
    assert!(
        matched >= 10,
        "only {matched} tensor-mode windows in the segment"
    );

    let d = &outcome.windows[0].inference;
    assert!(
        d.instructions > Some(0) && d.arena_used > Some(0) && d.stack_high_water > Some(0),
        "{d:?}"
    );
    let instr: Vec<u64> = outcome
        .windows
        .iter()
        .filter_map(|w| w.inference.instructions)
        .collect();
    // Window 0 runs the whole model; every later one reuses the overlap's columns of the
    // first two convolutions (26 of 56 and 9 of 24 at hop 30: ~30 % of the MACs).
    assert_eq!(instr.len(), outcome.windows.len());
    for (k, &n) in instr.iter().enumerate().skip(1) {
        assert!(
            n * 100 < instr[0] * 85,
            "{path:?}: window {k} took {n} instructions, window 0 {}: no reuse",
            instr[0]
        );
    }
    println!(
        "{path:?}: {} IMU samples → {} windows ({matched} kept by tensor mode), instructions/window {}..{}, stack {} B, arena {} B",
        seg.imu.len(),
        outcome.windows.len(),
        instr.iter().min().unwrap(),
        instr.iter().max().unwrap(),
        d.stack_high_water.unwrap_or(0),
        d.arena_used.unwrap_or(0)
    );
}

/// Logits, indices and instruction counts only: stack high-water is a since-boot maximum.
fn results(windows: &[StreamWindow]) -> Vec<(u32, Vec<i8>, Option<u64>)> {
    windows
        .iter()
        .map(|w| {
            (
                w.index,
                w.inference.logits.clone(),
                w.inference.instructions,
            )
        })
        .collect()
}

#[tokio::test]
async fn index_zero_restarts_the_segment_and_a_gap_is_refused() {
    restarts_and_gaps(Carrier::Mailbox).await;
}

#[tokio::test]
async fn over_the_uart_index_zero_restarts_the_segment_and_a_gap_is_refused() {
    restarts_and_gaps(Carrier::Uart).await;
}

/// An OTA request may prepare another model in the arena, so the band forgets the reuse
/// cache: the next window runs in full (and still gives the same logits).
#[tokio::test]
async fn an_ota_request_between_stream_requests_forgets_the_reuse_cache() {
    let s = setup();
    let rec = recording();
    let seg = first_segment(&rec, &s.board, &s.spec, &s.conv);
    let imu = &seg.imu[..seg.imu.len().min(600)];
    let mut band = configured_band(&s, Carrier::Mailbox).await;
    let whole = band.stream(0, imu).await.unwrap();

    let cut = 211;
    let mut again = band.stream(0, &imu[..cut]).await.unwrap();
    // Refused (nothing to confirm), but an OTA request all the same.
    let reply = band.exchange(&Request::OtaConfirm).await.unwrap();
    assert!(matches!(reply, BinaryReply::Error { .. }), "{reply:?}");
    let rest = band.stream(cut as u32, &imu[cut..]).await.unwrap();
    let first = rest.windows[0].clone();
    again.windows.extend(rest.windows);
    let logits = |w: &[StreamWindow]| -> Vec<Vec<i8>> {
        w.iter().map(|w| w.inference.logits.clone()).collect()
    };
    assert_eq!(logits(&again.windows), logits(&whole.windows));
    let k = first.index as usize;
    assert!(k > 0, "the cut must fall after the first window");
    let (full, reused) = (
        first.inference.instructions.unwrap(),
        whole.windows[k].inference.instructions.unwrap(),
    );
    assert!(
        full * 100 > reused * 120,
        "window {k} after the OTA request took {full} instructions, {reused} when reusing"
    );
}

async fn restarts_and_gaps(path: Carrier) {
    let s = setup();
    let rec = recording();
    let seg = first_segment(&rec, &s.board, &s.spec, &s.conv);
    let imu = &seg.imu[..seg.imu.len().min(600)];
    let mut band = configured_band(&s, path).await;

    let whole = band.stream(0, imu).await.unwrap();
    assert!(whole.windows.len() >= 5, "{}", whole.windows.len());
    // Index 0 starts over: the same samples in two uneven parts give the same windows, and
    // the same instruction counts (the second part reuses the first part's last window).
    let cut = 211;
    let mut again = band.stream(0, &imu[..cut]).await.unwrap();
    assert_eq!(again.received as usize, cut);
    let rest = band.stream(cut as u32, &imu[cut..]).await.unwrap();
    again.windows.extend(rest.windows);
    assert_eq!(results(&again.windows), results(&whole.windows));

    // Skipping samples is a gap: refused with the index the band expected.
    let err = band
        .stream(imu.len() as u32 + 5, &imu[..10])
        .await
        .unwrap_err();
    assert!(
        matches!(err, TargetError::Rejected { cause: ErrorCause::StreamGap, detail, .. } if detail as usize == imu.len()),
        "{err}"
    );
}

#[tokio::test]
async fn stream_configuration_is_checked_against_the_model() {
    let s = setup();
    let mut band = crate::support::qemu::launch("band-qemu").await;
    let no_model = band.configure_stream(s.stream).await.unwrap_err();
    assert!(
        matches!(
            no_model,
            TargetError::Rejected {
                cause: ErrorCause::NoModel,
                ..
            }
        ),
        "{no_model}"
    );
    band.load_model(s.host.model_bytes()).await.unwrap();
    let wrong_len = StreamConfig {
        window_len: 50,
        ..s.stream
    };
    let err = band.configure_stream(wrong_len).await.unwrap_err();
    assert!(
        matches!(
            err,
            TargetError::Rejected {
                cause: ErrorCause::InputSizeMismatch,
                detail: 360,
                ..
            }
        ),
        "{err}"
    );
    let odd_rate = StreamConfig {
        up: 2,
        down: 5,
        ..s.stream
    };
    let err = band.configure_stream(odd_rate).await.unwrap_err();
    assert!(
        matches!(err, TargetError::Rejected { cause: ErrorCause::UnsupportedRate, detail, .. } if detail == (2 << 16 | 5)),
        "{err}"
    );
    // Configured geometry but no input conversion: samples cannot become int8 windows.
    band.configure_stream(s.stream).await.unwrap();
    let samples = vec![[0i16; 6]; 10];
    let err = band.stream(0, &samples).await.unwrap_err();
    assert!(
        matches!(
            err,
            TargetError::Rejected {
                cause: ErrorCause::NotConfigured,
                detail: 1,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn mailbox_and_uart_streams_give_the_same_windows_and_counts() {
    let s = setup();
    let rec = recording();
    let seg = first_segment(&rec, &s.board, &s.spec, &s.conv);
    let imu = &seg.imu[..seg.imu.len().min(1500)];
    let mut shared = configured_band(&s, Carrier::Mailbox).await;
    let mut uart = configured_band(&s, Carrier::Uart).await;
    // Uneven parts that end mid-window: the segment continues across requests.
    let mut through_mailbox = Vec::new();
    for (from, to) in [(0, 97), (97, 98), (98, 1000), (1000, imu.len())] {
        let part = shared.stream(from as u32, &imu[from..to]).await.unwrap();
        assert_eq!(
            part.received as usize, to,
            "samples held after {from}..{to}"
        );
        through_mailbox.extend(part.windows);
    }
    let over_uart = uart.stream(0, imu).await.unwrap().windows;
    assert!(over_uart.len() >= 30, "{} windows", over_uart.len());
    assert_eq!(through_mailbox.len(), over_uart.len());
    for (m, u) in through_mailbox.iter().zip(&over_uart) {
        assert_eq!(m.index, u.index);
        assert_eq!(m.inference.logits, u.inference.logits, "window {}", m.index);
        assert_eq!(m.inference.predicted, u.inference.predicted);
        // Counted around invoke alone: the same whatever carried the samples.
        assert_eq!(
            m.inference.instructions, u.inference.instructions,
            "window {}",
            m.index
        );
        assert_eq!(m.inference.arena_used, u.inference.arena_used);
        assert!(m.inference.stack_high_water.is_some_and(|b| b > 0));
    }
}

#[tokio::test]
async fn mailbox_stream_requests_are_checked_like_stream_samples() {
    let s = setup();
    let mut band = launch(Carrier::Mailbox).await;
    let ask = |first_index, count| Request::MailboxStream { first_index, count };
    let refused = |reply| match reply {
        BinaryReply::Error {
            for_type,
            cause,
            detail,
        } if for_type == MessageType::MailboxStream as u8 => (cause, detail),
        other => panic!("expected an Error for MailboxStream, got {other:?}"),
    };
    band.load_model(s.host.model_bytes()).await.unwrap();
    band.configure_stream(s.stream).await.unwrap();
    // Configured geometry but no input conversion: samples cannot become int8 windows.
    let reply = band.exchange(&ask(0, 10)).await.unwrap();
    assert_eq!(refused(reply), (ErrorCause::NotConfigured, 1));
    let quant = device_input_quant(&s.card.normalization.device_conversion).unwrap();
    band.configure_input(&quant).await.unwrap();
    // Zero samples, or more than the records can hold windows for: the most is the detail.
    let most = mailbox::max_stream_samples(s.stream.up, s.stream.down, s.stream.hop);
    for count in [0, most + 1] {
        let reply = band.exchange(&ask(0, count)).await.unwrap();
        assert_eq!(
            refused(reply),
            (ErrorCause::Malformed, most),
            "count {count}"
        );
    }
    // A gap names the sample the band expected.
    let reply = band.exchange(&ask(0, 50)).await.unwrap();
    assert!(matches!(reply, BinaryReply::Ack { .. }), "{reply:?}");
    let reply = band.exchange(&ask(51, 10)).await.unwrap();
    assert_eq!(refused(reply), (ErrorCause::StreamGap, 50));
    // Still streaming afterwards, from where the segment stood.
    let rec = recording();
    let seg = first_segment(&rec, &s.board, &s.spec, &s.conv);
    let windows = band.stream(0, &seg.imu[..400]).await.unwrap();
    assert!(!windows.windows.is_empty());
}
