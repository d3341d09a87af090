//! `harbor boards`: the committed board profiles.

use clap::Subcommand;

use super::{CliResult, Exit};
use crate::board::{self, BoardProfile};

#[derive(Debug, Subcommand)]
pub enum BoardsCommand {
    /// List the board profiles in boards/.
    List,
    /// Print a board profile and the IMU figures derived from it.
    Show {
        /// Profile name (boards/<name>.yaml) or path to a profile file.
        name: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: BoardsCommand) -> CliResult {
    match cmd {
        BoardsCommand::List => {
            for name in board::available() {
                let profile = BoardProfile::load(&name)?;
                println!("{name:<20} {}", profile.description);
            }
        }
        BoardsCommand::Show { name, json } => {
            let profile = BoardProfile::load(&name)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&profile).expect("profile serializes")
                );
            } else {
                let imu = &profile.imu;
                println!("{}: {}", profile.name, profile.description);
                println!(
                    "imu  {} Hz, {}-bit, ±{} g, ±{} dps",
                    imu.odr_hz, imu.bits, imu.accel_range_g, imu.gyro_range_dps
                );
                println!(
                    "     accel {:.6e} m/s² per LSB (full scale {} LSB)",
                    imu.accel_scale(),
                    imu.accel_max_lsb()
                );
                println!(
                    "     gyro  {:.6e} rad/s per LSB (full scale {} LSB)",
                    imu.gyro_scale(),
                    imu.gyro_max_lsb()
                );
                print_budget(&profile);
            }
        }
    }
    Ok(Exit::Ok)
}

/// Clock, memory, currents per mode and radio currents, each with its source.
fn print_budget(profile: &BoardProfile) {
    if let Some(mcu) = &profile.mcu {
        println!(
            "mcu  {} ({}), {} MHz, {} cycles/instruction ({})",
            mcu.name,
            mcu.isa,
            mcu.clock_hz / 1_000_000,
            mcu.cycles_per_instruction,
            mcu.cpi_source
        );
    }
    if let Some(mem) = &profile.memory {
        println!(
            "mem  SRAM {} KiB, flash {} KiB ({})",
            mem.sram_bytes / 1024,
            mem.flash_bytes / 1024,
            mem.source
        );
    }
    let current = |label: &str, c: &crate::board::Current| {
        println!("     {label:<12} {:>8.3} mA  {}", c.ma, c.source)
    };
    if let Some(power) = &profile.power {
        println!("power {} V supply", power.supply_v);
        current("active", &power.active);
        current("light sleep", &power.light_sleep);
        current("imu", &power.imu);
    }
    match &profile.radio {
        Some(radio) => {
            println!("radio {}", radio.kind);
            for (name, c) in radio.currents() {
                current(name, c);
            }
        }
        None => println!("radio (no currents in this profile)"),
    }
}
