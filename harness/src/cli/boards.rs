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
                println!("{}", serde_json::to_string_pretty(&profile).expect("profile serializes"));
            } else {
                let imu = &profile.imu;
                println!("{}: {}", profile.name, profile.description);
                println!("imu  {} Hz, {}-bit, ±{} g, ±{} dps", imu.odr_hz, imu.bits, imu.accel_range_g, imu.gyro_range_dps);
                println!("     accel {:.6e} m/s² per LSB (full scale {} LSB)", imu.accel_scale(), imu.accel_max_lsb());
                println!("     gyro  {:.6e} rad/s per LSB (full scale {} LSB)", imu.gyro_scale(), imu.gyro_max_lsb());
            }
        }
    }
    Ok(Exit::Ok)
}
