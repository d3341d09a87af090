//! Who may do what: users own devices; every user and device has its own bearer token.
//!
//! A principal may touch a device's data if it *is* the device or owns it. Anything else
//! is 403, and so is an unknown device, so a stranger cannot probe which devices exist.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::ApiError;

/// The authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Principal {
    /// A user (by id).
    User(String),
    /// A device (by id).
    Device(String),
}

/// A registered device.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Device {
    /// The user it belongs to.
    pub owner: String,
    /// Its hardware version.
    pub hardware: String,
    /// Serve releases older than the device's version (off unless the harness allows it).
    pub allow_downgrade: bool,
}

/// Users, devices and their tokens.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Registry {
    users: BTreeMap<String, ()>,
    devices: BTreeMap<String, Device>,
    tokens: BTreeMap<String, Principal>,
    /// Token derivation: seeded, so test runs are reproducible; a counter keeps them unique.
    seed: u64,
    issued: u64,
}

/// Why a user or device could not be registered.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// `what` (`user name`, `device id`) is not 1-64 of [A-Za-z0-9_-].
    #[error("{0} `{1}`: use 1-64 of [A-Za-z0-9_-]")]
    BadName(&'static str, String),
    /// A user or device of that kind and id already exists.
    #[error("{0} `{1}` exists")]
    Exists(&'static str, String),
    /// No user or device of that kind and id.
    #[error("no {0} `{1}`")]
    Missing(&'static str, String),
}

/// Names of users and devices: short, plain, safe in URLs and logs.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A 128-bit opaque id (hex) derived from `seed`, a purpose and a counter.
pub fn opaque_id(seed: u64, purpose: &str, counter: u64) -> String {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(purpose.as_bytes());
    h.update(counter.to_le_bytes());
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Opaque ids are exactly 32 lowercase hex digits; anything else is rejected before lookup.
pub fn valid_opaque_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Registry {
    /// An empty registry whose ids and tokens derive from `seed`.
    pub fn new(seed: u64) -> Self {
        Registry {
            seed,
            ..Registry::default()
        }
    }

    fn issue(&mut self, principal: Principal) -> String {
        self.issued += 1;
        let token = opaque_id(self.seed, "token", self.issued);
        self.tokens.insert(token.clone(), principal);
        token
    }

    /// Registers a user and returns its token.
    pub fn add_user(&mut self, user: &str) -> Result<String, RegistryError> {
        if !valid_name(user) {
            return Err(RegistryError::BadName("user name", user.into()));
        }
        if self.users.insert(user.to_string(), ()).is_some() {
            return Err(RegistryError::Exists("user", user.into()));
        }
        Ok(self.issue(Principal::User(user.to_string())))
    }

    /// Registers a device of `owner` and returns its token.
    pub fn add_device(
        &mut self,
        owner: &str,
        device: &str,
        hardware: &str,
    ) -> Result<String, RegistryError> {
        if !self.users.contains_key(owner) {
            return Err(RegistryError::Missing("user", owner.into()));
        }
        if !valid_name(device) {
            return Err(RegistryError::BadName("device id", device.into()));
        }
        if self.devices.contains_key(device) {
            return Err(RegistryError::Exists("device", device.into()));
        }
        self.devices.insert(
            device.to_string(),
            Device {
                owner: owner.to_string(),
                hardware: hardware.to_string(),
                allow_downgrade: false,
            },
        );
        Ok(self.issue(Principal::Device(device.to_string())))
    }

    /// Whether some user or device holds `token`.
    pub fn knows_token(&self, token: &str) -> bool {
        self.tokens.contains_key(token)
    }

    /// Registered devices by id.
    pub fn devices(&self) -> impl Iterator<Item = (&str, &Device)> {
        self.devices.iter().map(|(id, d)| (id.as_str(), d))
    }

    /// Registered users.
    pub fn users(&self) -> impl Iterator<Item = &str> {
        self.users.keys().map(String::as_str)
    }

    /// The token of a user or device.
    pub fn token_of(&self, who: &Principal) -> Option<&str> {
        self.tokens
            .iter()
            .find(|(_, p)| *p == who)
            .map(|(t, _)| t.as_str())
    }

    /// The device with this id.
    pub fn device(&self, device: &str) -> Option<&Device> {
        self.devices.get(device)
    }

    /// The device with this id, writable.
    pub fn device_mut(&mut self, device: &str) -> Option<&mut Device> {
        self.devices.get_mut(device)
    }

    /// The caller behind the request's `Authorization: Bearer` token: 401 without one,
    /// 403 for a token nobody holds.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, ApiError> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing bearer token",
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::new(StatusCode::UNAUTHORIZED, "malformed Authorization header")
            })?;
        self.tokens
            .get(token.trim())
            .cloned()
            .ok_or_else(|| ApiError::new(StatusCode::FORBIDDEN, "bad token"))
    }

    /// Whether `who` may read and write `device`'s data.
    pub fn may_access(&self, who: &Principal, device: &str) -> bool {
        match (who, self.devices.get(device)) {
            (_, None) => false,
            (Principal::Device(d), Some(_)) => d == device,
            (Principal::User(u), Some(dev)) => &dev.owner == u,
        }
    }

    /// 403 unless `who` may access `device` (unknown devices too: existence is not revealed).
    pub fn check(&self, who: &Principal, device: &str) -> Result<(), ApiError> {
        if self.may_access(who, device) {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }
}
