//! `harbor ports`: the serial ports a board could be on (docs/serial.md).

use clap::Args;

use super::{CliError, CliResult, Exit};
use crate::dut::list_ports;

#[derive(Debug, Args)]
pub struct PortsArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &PortsArgs) -> CliResult {
    let ports = list_ports().map_err(CliError::infrastructure)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&ports).expect("ports serialize")
        );
        return Ok(Exit::Ok);
    }
    if ports.is_empty() {
        println!("no serial ports found (pseudo-terminals are not listed)");
    }
    for p in &ports {
        let usb = p.usb_id.as_deref().unwrap_or("-");
        let about: Vec<&str> = [&p.manufacturer, &p.product, &p.serial_number]
            .into_iter()
            .filter_map(|s| s.as_deref())
            .collect();
        let line = format!(
            "{:<20} {:<9} {:<9} {}",
            p.path,
            p.kind,
            usb,
            about.join(" · ")
        );
        println!("{}", line.trim_end());
    }
    Ok(Exit::Ok)
}
