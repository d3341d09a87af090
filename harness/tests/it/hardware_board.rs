//! Hardware-in-the-loop tests on a real band. They need a board, so they are `#[ignore]`d
//! (nextest lists them as skipped, never as passed) and run with
//!
//! ```sh
//! HARBOR_BOARD=esp32c3-serial:/dev/ttyACM0 cargo nextest run -p harbor --test hardware_board --run-ignored only -E 'test(serial)'
//! HARBOR_BOARD=esp32c3-probe cargo nextest run -p harbor --features probe --test hardware_board --run-ignored only -E 'test(probe)'
//! ```
//!
//! Each flashes the band firmware and replays the TFLM golden vectors of `har_conv1d`
//! into it: the logits must be bit-exact, as in QEMU. docs/hardware.md has the details.
//! Run without a (matching) HARBOR_BOARD they fail and say what to set: never a silent pass.

use harbor::dut::Target;
use harbor::hardware::HardwareBoard;

/// The board from HARBOR_BOARD, or a failure naming the variable and the form wanted.
fn board(wanted: &str) -> HardwareBoard {
    match HardwareBoard::from_env() {
        Ok(Some(board)) => board,
        Ok(None) => {
            panic!("this test drives a real board: set HARBOR_BOARD={wanted} (docs/hardware.md)")
        }
        Err(e) => panic!("{e}"),
    }
}

fn first_argmax(logits: &[i8]) -> u8 {
    let max = logits.iter().max().copied().unwrap_or(0);
    logits.iter().position(|&l| l == max).unwrap_or(0) as u8
}

/// Loads the golden model and checks every golden window's logits; the instruction counts.
async fn replay_golden(band: &mut impl Target) -> Vec<u64> {
    let golden = crate::support::qemu::golden("har_conv1d");
    let info = band.info().await.unwrap();
    assert_eq!(info.name, "band-esp32c3", "{info:?}");
    band.load_model(&golden.model).await.unwrap();
    let mut instructions = Vec::new();
    for (i, (input, expected)) in golden.records.iter().enumerate() {
        let result = band.infer(input).await.unwrap();
        assert_eq!(&result.logits, expected, "vector {i}");
        assert_eq!(result.predicted, first_argmax(expected), "vector {i}");
        assert!(
            result
                .stack_high_water
                .is_some_and(|s| s > 0 && s < info.stack_size),
            "{result:?}"
        );
        instructions.push(result.instructions.expect("the binary protocol counts"));
        // A real board measures the inference with its own timer (SYSTIMER on the C3).
        assert!(result.elapsed_us.is_some_and(|us| us > 0), "{result:?}");
    }
    // The C3's counter must count: an inference is ~1 M instructions (docs/firmware.md).
    assert!(
        instructions.iter().all(|&n| n > 10_000),
        "instruction counts {instructions:?}"
    );
    instructions
}

#[tokio::test]
#[ignore = "needs hardware: HARBOR_BOARD=esp32c3-serial:<port>"]
async fn esp32c3_over_serial_is_flashed_and_replays_golden_windows_bit_exactly() {
    let HardwareBoard::Serial { chip, port, baud } = board("esp32c3-serial:/dev/ttyACM0") else {
        panic!("HARBOR_BOARD names a probe board; this test needs esp32c3-serial:<port>");
    };
    let elf = crate::support::qemu::firmware("band-esp32c3");
    let settings = harbor::flash::SerialFlash {
        port: port.clone(),
        baud: Some(baud),
        chip,
    };
    let flashed = tokio::task::spawn_blocking(move || {
        harbor::flash::flash_serial(
            &elf,
            &settings,
            &mut espflash::target::DefaultProgressCallback,
        )
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("{e}"));
    println!(
        "flashed {} pieces on {}",
        flashed.pieces.len(),
        flashed.chip
    );

    // espflash hard-reset the board; its banner may be gone by now, so no reset on open:
    // the serial target checks the band answers Hello instead.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let mut config = harbor::dut::SerialConfig::new(port.to_string_lossy());
    config.boot_timeout = std::time::Duration::from_secs(20);
    let mut band = harbor::dut::SerialTarget::open(&config)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let counts = replay_golden(&mut band).await;
    println!("instructions per inference on the board: {counts:?}");
}

#[tokio::test]
#[ignore = "needs hardware: HARBOR_BOARD=esp32c3-probe and --features probe"]
async fn esp32c3_probe_over_its_usb_jtag_is_flashed_and_replays_golden_windows_over_rtt() {
    let HardwareBoard::Probe { chip, selector } = board("esp32c3-probe") else {
        panic!(
            "HARBOR_BOARD names a serial board; this test needs esp32c3-probe[:<vid>:<pid>[:<serial>]]"
        );
    };
    probe_replay(chip, selector).await;
}

#[cfg(feature = "probe")]
async fn probe_replay(chip: String, selector: Option<String>) {
    use harbor::dut::probe::{ProbeConfig, ProbeTarget};
    let mut config = ProbeConfig::new(chip, crate::support::qemu::firmware("band-esp32c3-rtt"));
    config.selector = selector;
    let mut band = ProbeTarget::attach(&config)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let before = band.counter().await.unwrap();
    let counts = replay_golden(&mut band).await;
    let after = band.counter().await.unwrap();
    // The CSR is 32 bits (wraps after ~27 s at 160 MHz; the replay takes a few seconds):
    // everything the band reported counting ran between the two reads.
    let ran = after.wrapping_sub(before) & 0xFFFF_FFFF;
    assert!(
        ran >= counts.iter().sum::<u64>(),
        "counter {before} → {after}, band reported {counts:?}"
    );
    println!(
        "instructions per inference over RTT: {counts:?}; counter read by the probe {before} → {after}"
    );
}

#[cfg(not(feature = "probe"))]
async fn probe_replay(_chip: String, _selector: Option<String>) {
    panic!("the probe target is behind a cargo feature: add --features probe (docs/hardware.md)");
}
