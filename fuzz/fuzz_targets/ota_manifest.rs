//! OTA release manifests and slot records.
#![no_main]

use harbor_core::ota::manifest::Manifest;
use harbor_core::ota::otadata::{RECORD_LEN, Record};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(m) = Manifest::decode(bytes) {
        assert_eq!(Manifest::decode(&m.encode()).ok(), Some(m));
    }
    if let Ok(record) = <[u8; RECORD_LEN]>::try_from(bytes.get(..RECORD_LEN).unwrap_or(&[])) {
        let _ = Record::decode(&record);
    }
});
