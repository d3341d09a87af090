//! Physical units → the IMU's raw int16 readings, with per-axis clip counts.

use std::fmt;

use serde::Serialize;

use super::SignalError;
use crate::board::ImuSpec;

/// Axis names in the order of every 6-axis sample harbor handles.
pub const AXIS_NAMES: [&str; 6] = ["ax", "ay", "az", "gx", "gy", "gz"];

/// How many samples hit the sensor's full scale, per axis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ClipCounts {
    /// Accelerometer x readings clipped.
    pub ax: u64,
    /// Accelerometer y readings clipped.
    pub ay: u64,
    /// Accelerometer z readings clipped.
    pub az: u64,
    /// Gyroscope x readings clipped.
    pub gx: u64,
    /// Gyroscope y readings clipped.
    pub gy: u64,
    /// Gyroscope z readings clipped.
    pub gz: u64,
}

impl ClipCounts {
    /// The six counts in axis order.
    pub fn as_array(&self) -> [u64; 6] {
        [self.ax, self.ay, self.az, self.gx, self.gy, self.gz]
    }

    fn add(&mut self, axis: usize) {
        let slot = match axis {
            0 => &mut self.ax,
            1 => &mut self.ay,
            2 => &mut self.az,
            3 => &mut self.gx,
            4 => &mut self.gy,
            _ => &mut self.gz,
        };
        *slot += 1;
    }

    /// Adds another recording's counts.
    pub fn merge(&mut self, other: &ClipCounts) {
        self.ax += other.ax;
        self.ay += other.ay;
        self.az += other.az;
        self.gx += other.gx;
        self.gy += other.gy;
        self.gz += other.gz;
    }

    /// Clipped readings over all axes.
    pub fn total(&self) -> u64 {
        self.as_array().iter().sum()
    }
}

impl fmt::Display for ClipCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = AXIS_NAMES
            .iter()
            .zip(self.as_array())
            .map(|(name, n)| format!("{name} {n}"))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

/// Converts between physical units and raw readings with the profile's datasheet sensitivity.
#[derive(Clone, Debug, PartialEq)]
pub struct ImuQuantizer {
    /// Physical units per LSB: m/s² for accel axes, rad/s for gyro axes.
    scale: [f64; 6],
    /// Symmetric full scale in LSB.
    max_lsb: [i32; 6],
}

impl ImuQuantizer {
    /// A quantizer for the IMU's ranges and resolution; errors on an unusable spec.
    pub fn new(imu: &ImuSpec) -> Result<Self, SignalError> {
        if imu.bits > 16 {
            return Err(SignalError::config(
                "imu.bits",
                format!("{} bits do not fit harbor's int16 readings", imu.bits),
            ));
        }
        let (a, g) = (imu.accel_scale(), imu.gyro_scale());
        let (am, gm) = (imu.accel_max_lsb(), imu.gyro_max_lsb());
        Ok(ImuQuantizer {
            scale: [a, a, a, g, g, g],
            max_lsb: [am, am, am, gm, gm, gm],
        })
    }

    /// Physical units per count, per axis.
    pub fn scale(&self) -> [f64; 6] {
        self.scale
    }

    /// Rounds to the nearest LSB and clips at ±full scale, counting clipped axes. NaN (never
    /// produced by the loaders) would saturate like an out-of-range value and be counted.
    pub fn quantize(&self, value: &[f32; 6], clipped: &mut ClipCounts) -> [i16; 6] {
        std::array::from_fn(|axis| {
            let lsb = (f64::from(value[axis]) / self.scale[axis]).round();
            let max = f64::from(self.max_lsb[axis]);
            if lsb > max || lsb < -max || lsb.is_nan() {
                clipped.add(axis);
            }
            // `as` saturates and maps NaN to 0; the clamp makes the full scale explicit.
            lsb.clamp(-max, max) as i16
        })
    }

    /// Raw readings back to physical units, as the model's float inputs.
    pub fn dequantize(&self, raw: &[i16; 6]) -> [f32; 6] {
        std::array::from_fn(|axis| (f64::from(raw[axis]) * self.scale[axis]) as f32)
    }
}
