//! The shared-RAM mailbox: batches of windows through QEMU's RAM file give the same results
//! as one TensorInfer per window, and a band without shared RAM still gets every window.

use harbor::dut::{Backing, QemuTarget, Target, TargetError};
use harbor_core::protocol::mailbox;
use harbor_core::protocol::{ErrorCause, MessageType, Request};

/// Windows that cross more than one replay batch and end in a partial one.
const WINDOWS: usize = 70;

fn windows(input_len: usize) -> Vec<Vec<i8>> {
    let mut rng = harbor::rng::SplitMix64::new(15);
    (0..WINDOWS)
        .map(|_| (0..input_len).map(|_| rng.next_u64() as i8).collect())
        .collect()
}

async fn launch(shared_ram: bool) -> QemuTarget {
    let mut config = crate::support::qemu::config("band-qemu");
    config.shared_ram = shared_ram;
    QemuTarget::launch(config)
        .await
        .unwrap_or_else(|e| panic!("launching band-qemu: {e}"))
}

#[tokio::test]
async fn mailbox_batches_equal_one_tensor_infer_per_window() {
    let golden = crate::support::qemu::golden("har_conv1d");
    let inputs = windows(golden.input_len);
    let refs: Vec<&[i8]> = inputs.iter().map(Vec::as_slice).collect();

    let mut shared = launch(true).await;
    assert!(
        shared.backing().shared_ram().is_some(),
        "QEMU's RAM is a file harbor opens"
    );
    assert!(
        shared.info().await.unwrap().mailbox,
        "band-qemu announces the mailbox"
    );
    shared.load_model(&golden.model).await.unwrap();
    let mut batched = Vec::new();
    shared.infer_many(&refs, &mut batched).await.unwrap();

    // The UART path: no RAM file, so one TensorInfer per window.
    let mut uart = launch(false).await;
    assert!(uart.backing().shared_ram().is_none());
    assert!(
        uart.info().await.unwrap().mailbox,
        "the band has it; the host cannot use it"
    );
    uart.load_model(&golden.model).await.unwrap();
    let mut single = Vec::new();
    uart.infer_many(&refs, &mut single).await.unwrap();

    assert_eq!(batched.len(), WINDOWS);
    assert_eq!(single.len(), WINDOWS);
    for (i, (b, s)) in batched.iter().zip(&single).enumerate() {
        assert_eq!(b.logits, s.logits, "window {i}");
        assert_eq!(b.predicted, s.predicted, "window {i}");
        // Counted inside the band around invoke: the same whatever carried the window.
        assert_eq!(b.instructions, s.instructions, "window {i}");
        assert!(b.instructions.is_some_and(|n| n > 0), "window {i}");
        assert_eq!(b.arena_used, s.arena_used, "window {i}");
    }
    // The golden vectors through the mailbox stay bit-exact with TFLite Micro.
    let golden_refs: Vec<&[i8]> = golden.records.iter().map(|(x, _)| x.as_slice()).collect();
    let mut results = Vec::new();
    shared.infer_many(&golden_refs, &mut results).await.unwrap();
    for (i, (r, (_, expected))) in results.iter().zip(&golden.records).enumerate() {
        assert_eq!(&r.logits, expected, "golden vector {i}");
    }
}

#[tokio::test]
async fn mailbox_requests_need_a_model_and_a_count_that_fits() {
    let golden = crate::support::qemu::golden("har_conv1d");
    let mut band = launch(true).await;
    let rejected = |r: Result<_, TargetError>| match r {
        Err(TargetError::Rejected {
            request: MessageType::MailboxInfer,
            cause,
            detail,
            ..
        }) => (cause, detail),
        other => panic!("expected a rejected MailboxInfer, got {other:?}"),
    };
    let ask = |count| Request::MailboxInfer { count };
    let refuse = |reply| match reply {
        harbor::dut::BinaryReply::Error { cause, detail, .. } => Err(TargetError::Rejected {
            target: "band".into(),
            request: MessageType::MailboxInfer,
            cause,
            detail,
        }),
        other => Ok(other),
    };
    let reply = band.exchange(&ask(1)).await.unwrap();
    assert_eq!(rejected(refuse(reply)), (ErrorCause::NoModel, 0));
    band.load_model(&golden.model).await.unwrap();
    let most = mailbox::max_windows(golden.input_len) as u32;
    for count in [0, most as u16 + 1] {
        let reply = band.exchange(&ask(count)).await.unwrap();
        assert_eq!(
            rejected(refuse(reply)),
            (ErrorCause::Malformed, most),
            "count {count}"
        );
    }
    // Still usable afterwards, through both paths.
    band.info().await.unwrap();
    let window = &golden.records[0];
    let mut out = Vec::new();
    band.infer_many(&[window.0.as_slice()], &mut out)
        .await
        .unwrap();
    assert_eq!(out[0].logits, window.1);
    assert_eq!(band.infer(&window.0).await.unwrap().logits, window.1);
}
