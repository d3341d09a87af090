//! The metrics table: every metric a cell reports, with its unit, which way is better, its
//! default baseline tolerance, how it is printed and how it is read from a [`CellResult`].
//!
//! Thresholds, baseline comparisons and the report writers look metrics up here by name;
//! docs/report-json.md documents every entry (a test keeps the two in step).

use super::{CellResult, Status, Tolerance};

/// What a metric's values count or measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A ratio of windows, 0 to 1.
    Fraction,
    /// Windows, failures or mismatches.
    Count,
    /// Retired instructions per inference.
    Instructions,
    /// Milliseconds.
    Milliseconds,
    /// Bytes.
    Bytes,
    /// Microjoules.
    Microjoules,
    /// Milliampere-hours per day.
    MilliampHoursPerDay,
    /// 1 when a condition holds, else 0.
    Flag,
}

impl Unit {
    /// The unit as docs/report-json.md writes it.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Fraction => "fraction",
            Unit::Count => "count",
            Unit::Instructions => "instructions",
            Unit::Milliseconds => "ms",
            Unit::Bytes => "B",
            Unit::Microjoules => "µJ",
            Unit::MilliampHoursPerDay => "mAh/day",
            Unit::Flag => "flag",
        }
    }

    /// Decimals people read: whole bytes and instructions, µJ to 2 places, the rest to 4.
    const fn decimals(self) -> usize {
        match self {
            Unit::Bytes | Unit::Instructions => 0,
            Unit::Microjoules => 2,
            _ => 4,
        }
    }
}

/// Which way a metric improves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    /// Higher values are better.
    Higher,
    /// Lower values are better.
    Lower,
    /// Describes the run rather than judging it (e.g. windows sent).
    Neither,
}

impl Better {
    /// The direction as docs/report-json.md writes it.
    pub fn word(self) -> &'static str {
        match self {
            Better::Higher => "higher",
            Better::Lower => "lower",
            Better::Neither => "–",
        }
    }
}

/// One metric of a cell.
#[derive(Clone, Copy, Debug)]
pub struct Metric {
    /// The name in thresholds, checks and baseline deltas, e.g. `flash_bytes`.
    pub name: &'static str,
    /// What the values count or measure.
    pub unit: Unit,
    /// Which way the metric improves.
    pub better: Better,
    /// `Some`: baseline comparisons gate on this metric with this default tolerance.
    pub diff_tolerance: Option<Tolerance>,
    /// Decimals in report.md and report.html.
    pub decimals: usize,
    /// Reads the value from a cell; `None` when it was not measured.
    pub read: fn(&CellResult) -> Option<f64>,
}

impl Metric {
    const fn new(
        name: &'static str,
        unit: Unit,
        better: Better,
        read: fn(&CellResult) -> Option<f64>,
    ) -> Self {
        Metric {
            name,
            unit,
            better,
            diff_tolerance: None,
            decimals: unit.decimals(),
            read,
        }
    }

    /// The same metric, compared by baselines with `tolerance` by default.
    const fn compared(self, tolerance: Tolerance) -> Self {
        Metric {
            diff_tolerance: Some(tolerance),
            ..self
        }
    }

    /// The value in `cell`, `None` when it was not measured.
    pub fn value(&self, cell: &CellResult) -> Option<f64> {
        (self.read)(cell)
    }

    /// `v` as people read it (report.md, report.html).
    pub fn format(&self, v: f64) -> String {
        format!("{:.*}", self.decimals, v)
    }

    /// Thresholds of byte metrics may carry a size unit (`128KiB`).
    pub fn is_bytes(&self) -> bool {
        self.unit == Unit::Bytes
    }
}

fn count(n: usize) -> Option<f64> {
    Some(n as f64)
}

/// On-device accuracy over the completed windows.
pub const ACCURACY: Metric =
    Metric::new("accuracy", Unit::Fraction, Better::Higher, |c| c.accuracy)
        .compared(Tolerance::Absolute(0.005));
/// harbor-core int8 on the host, same windows.
pub const HOST_INT8_ACCURACY: Metric =
    Metric::new("host_int8_accuracy", Unit::Fraction, Better::Higher, |c| {
        c.host_int8_accuracy
    });
/// The float model on the host, same windows.
pub const FLOAT_ACCURACY: Metric =
    Metric::new("float_accuracy", Unit::Fraction, Better::Higher, |c| {
        c.float_accuracy
    });
/// Flash image plus model bytes.
pub const FLASH_BYTES: Metric = Metric::new("flash_bytes", Unit::Bytes, Better::Lower, |c| {
    c.flash_bytes.map(|v| v as f64)
})
.compared(Tolerance::Relative(0.01));
/// Static RAM plus the arena in use and the stack high-water mark.
pub const RAM_BYTES: Metric = Metric::new("ram_bytes", Unit::Bytes, Better::Lower, |c| {
    c.ram_bytes.map(|v| v as f64)
})
.compared(Tolerance::Relative(0.01));
/// Estimated energy per inference.
pub const ENERGY_UJ: Metric = Metric::new("energy_uj", Unit::Microjoules, Better::Lower, |c| {
    c.energy_uj
})
.compared(Tolerance::Relative(0.01));
/// The implicit check every cell gets: 1 when its status is `ok`, else 0.
pub const STATUS_OK: Metric = Metric::new("status_ok", Unit::Flag, Better::Higher, |c| {
    Some(if c.status == Status::Ok { 1.0 } else { 0.0 })
});

/// Every metric, in the order baseline comparisons list them.
pub static METRICS: &[Metric] = &[
    ACCURACY,
    Metric::new("macro_f1", Unit::Fraction, Better::Higher, |c| c.macro_f1)
        .compared(Tolerance::Absolute(0.005)),
    HOST_INT8_ACCURACY,
    FLOAT_ACCURACY,
    // Bit-exactness with the host reference is all or nothing.
    Metric::new("agreement_int8", Unit::Fraction, Better::Higher, |c| {
        c.agreement_int8
    })
    .compared(Tolerance::Absolute(0.0)),
    Metric::new("agreement_float", Unit::Fraction, Better::Higher, |c| {
        c.agreement_float
    })
    .compared(Tolerance::Absolute(0.005)),
    Metric::new("agreement_outputs", Unit::Fraction, Better::Higher, |c| {
        c.agreement_outputs
    })
    .compared(Tolerance::Absolute(0.0)),
    Metric::new("int8_mismatches", Unit::Count, Better::Lower, |c| {
        count(c.int8_mismatches.len())
    }),
    FLASH_BYTES,
    RAM_BYTES,
    Metric::new("stack_bytes", Unit::Bytes, Better::Lower, |c| {
        c.stack_bytes.map(|v| v as f64)
    })
    .compared(Tolerance::Relative(0.01)),
    Metric::new("arena_bytes", Unit::Bytes, Better::Lower, |c| {
        c.arena_bytes.map(|v| v as f64)
    }),
    Metric::new("instructions_min", Unit::Instructions, Better::Lower, |c| {
        c.instructions.map(|s| s.min as f64)
    }),
    Metric::new(
        "instructions_median",
        Unit::Instructions,
        Better::Lower,
        |c| c.instructions.map(|s| s.median as f64),
    )
    .compared(Tolerance::Relative(0.01)),
    Metric::new("instructions_max", Unit::Instructions, Better::Lower, |c| {
        c.instructions.map(|s| s.max as f64)
    })
    .compared(Tolerance::Relative(0.01)),
    Metric::new("est_latency_ms", Unit::Milliseconds, Better::Lower, |c| {
        c.est_latency_ms
    }),
    Metric::new(
        "measured_latency_ms",
        Unit::Milliseconds,
        Better::Lower,
        |c| c.measured_latency_ms,
    ),
    ENERGY_UJ,
    Metric::new(
        "energy_uj_per_window",
        Unit::Microjoules,
        Better::Lower,
        |c| c.energy.as_ref().map(|e| e.total_uj_per_window),
    ),
    Metric::new(
        "mah_per_day",
        Unit::MilliampHoursPerDay,
        Better::Lower,
        |c| c.energy.as_ref().map(|e| e.mah_per_day),
    ),
    Metric::new("windows", Unit::Count, Better::Neither, |c| {
        count(c.windows)
    }),
    Metric::new("windows_completed", Unit::Count, Better::Higher, |c| {
        count(c.windows_completed)
    }),
    Metric::new("windows_unscored", Unit::Count, Better::Neither, |c| {
        Some(c.windows_unscored as f64)
    }),
    Metric::new("failures", Unit::Count, Better::Lower, |c| {
        count(c.failures.len())
    }),
    STATUS_OK,
];

/// A metric name that is not in [`METRICS`].
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("unknown metric `{name}`; expected one of: {}", names(METRICS.iter()))]
pub struct UnknownMetric {
    /// The name as given.
    pub name: String,
}

/// The metric called `name`.
pub fn metric(name: &str) -> Result<&'static Metric, UnknownMetric> {
    METRICS
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| UnknownMetric {
            name: name.to_string(),
        })
}

/// The metrics baseline comparisons gate on, in table order.
pub fn compared() -> impl Iterator<Item = &'static Metric> {
    METRICS.iter().filter(|m| m.diff_tolerance.is_some())
}

/// `a, b, c`: metric names for error messages.
pub fn names<'a>(metrics: impl Iterator<Item = &'a Metric>) -> String {
    metrics.map(|m| m.name).collect::<Vec<_>>().join(", ")
}

/// `v` of the metric called `name` as people read it (4 decimals for a name not in the table,
/// e.g. from a report written by another version).
pub fn format_value(name: &str, v: f64) -> String {
    metric(name).map_or_else(|_| format!("{v:.4}"), |m| m.format(v))
}
