//! Fault injection for OTA scenarios, set by the harness through [`super::CloudServer`]
//! (never over public HTTP): each fault hits one device's requests or one artifact.

use std::time::Duration;

/// What a fault is attached to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultTarget {
    /// Every request the device makes (release query, manifest, artifact download).
    Device(String),
    /// Downloads of one artifact, and the manifest of the release that points at it.
    Artifact(String),
}

/// What goes wrong.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Serve only the first `len` bytes of the artifact (as if the file were short).
    Truncate {
        /// Bytes served.
        len: u64,
    },
    /// Flip every bit of the artifact byte at `offset`.
    CorruptByte {
        /// Offset of the flipped byte.
        offset: u64,
    },
    /// Manifest signature with one bit flipped.
    BadSignature,
    /// Manifest signed by a key the band does not trust (and named by an unknown key id).
    UnknownKey,
    /// Manifest (validly signed) for other hardware.
    WrongHardware,
    /// Manifest (validly signed) for a model with another input shape.
    WrongModelShape,
    /// Manifest (validly signed) with a version below the device's current one, served even
    /// though the server refuses downgrades.
    OlderVersion,
    /// Hold the response this long before answering.
    Stall {
        /// How long to hold it.
        delay: Duration,
    },
    /// Send `after` bytes of the body, then drop the connection.
    ResetMidBody {
        /// Body bytes sent before the reset.
        after: u64,
    },
    /// Answer 503 with `Retry-After: retry_after_s`.
    Unavailable {
        /// Seconds the client is told to wait.
        retry_after_s: u32,
    },
}

impl Fault {
    /// Short name for logs and reports.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::Truncate { .. } => "truncate",
            Fault::CorruptByte { .. } => "corrupt_byte",
            Fault::BadSignature => "bad_signature",
            Fault::UnknownKey => "unknown_key",
            Fault::WrongHardware => "wrong_hardware",
            Fault::WrongModelShape => "wrong_model_shape",
            Fault::OlderVersion => "older_version",
            Fault::Stall { .. } => "stall",
            Fault::ResetMidBody { .. } => "reset_mid_body",
            Fault::Unavailable { .. } => "unavailable",
        }
    }

    /// Faults that change the manifest the server hands out.
    pub fn is_manifest_fault(&self) -> bool {
        matches!(
            self,
            Fault::BadSignature
                | Fault::UnknownKey
                | Fault::WrongHardware
                | Fault::WrongModelShape
                | Fault::OlderVersion
        )
    }
}

/// Where in the API a request is, to pick the faults that apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// `GET /releases/latest` and the manifest endpoint.
    Release,
    /// `GET /artifacts/{id}`.
    Download,
}

#[derive(Clone, Debug)]
struct Armed {
    target: FaultTarget,
    fault: Fault,
    /// Requests it still hits; `None` for every request.
    remaining: Option<u32>,
}

/// One fault that hit a request (the log tests and reports read).
#[derive(Clone, Debug, PartialEq)]
pub struct FaultHit {
    /// The request the fault hit.
    pub target: FaultTarget,
    /// The fault applied.
    pub fault: Fault,
}

/// Armed faults and the log of those that fired; the mock cloud consults it per request.
#[derive(Debug, Default)]
pub struct Faults {
    armed: Vec<Armed>,
    log: Vec<FaultHit>,
}

fn applies(fault: &Fault, stage: Stage) -> bool {
    match fault {
        Fault::Truncate { .. } | Fault::CorruptByte { .. } | Fault::ResetMidBody { .. } => {
            stage == Stage::Download
        }
        f if f.is_manifest_fault() => stage == Stage::Release,
        // Stall and 503 hit whichever request comes.
        _ => true,
    }
}

impl Faults {
    /// Arms `fault` for `times` requests (`None`: until cleared).
    pub fn inject(&mut self, target: FaultTarget, fault: Fault, times: Option<u32>) {
        self.armed.push(Armed {
            target,
            fault,
            remaining: times,
        });
    }

    /// Disarms every fault and forgets the log.
    pub fn clear(&mut self) {
        self.armed.clear();
    }

    /// Faults hitting a request at `stage` by `device` (for `artifact`, if any), counted
    /// down and logged.
    pub fn take(&mut self, stage: Stage, device: &str, artifact: Option<&str>) -> Vec<Fault> {
        let mut hits = Vec::new();
        for a in &mut self.armed {
            let matches = match &a.target {
                FaultTarget::Device(d) => d == device,
                FaultTarget::Artifact(id) => Some(id.as_str()) == artifact,
            };
            if !matches || !applies(&a.fault, stage) || a.remaining == Some(0) {
                continue;
            }
            if let Some(n) = &mut a.remaining {
                *n -= 1;
            }
            self.log.push(FaultHit {
                target: a.target.clone(),
                fault: a.fault.clone(),
            });
            hits.push(a.fault.clone());
        }
        self.armed.retain(|a| a.remaining != Some(0));
        hits
    }

    /// Faults that fired, in order.
    pub fn log(&self) -> &[FaultHit] {
        &self.log
    }
}
