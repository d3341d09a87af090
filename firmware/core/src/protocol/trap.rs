//! The line the firmware's trap handler prints before exiting, and its parser.
//!
//! It is an MLPerf-style error line so text-protocol tools show it too:
//! `e-[trap mcause=0x00000002 mepc=0x80000a3c mtval=0x00000000]` followed by CR LF.

/// Everything after this prefix up to `]` is the trap's CSR dump.
pub const TRAP_PREFIX: &str = "e-[trap ";

/// The trap CSRs the handler reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrapReport {
    /// Trap cause.
    pub mcause: u32,
    /// Address of the trapping instruction.
    pub mepc: u32,
    /// Faulting address or instruction bits, depending on the cause.
    pub mtval: u32,
}

impl TrapReport {
    /// Writes the report line (without CR LF).
    pub fn write_line(&self, out: &mut impl core::fmt::Write) -> core::fmt::Result {
        write!(
            out,
            "{TRAP_PREFIX}mcause=0x{:08x} mepc=0x{:08x} mtval=0x{:08x}]",
            self.mcause, self.mepc, self.mtval
        )
    }

    /// Parses a report line; `None` if the line is not one.
    pub fn parse(line: &str) -> Option<Self> {
        let body = line.trim().strip_prefix(TRAP_PREFIX)?.strip_suffix(']')?;
        let (mut mcause, mut mepc, mut mtval) = (None, None, None);
        for field in body.split(' ') {
            let (key, value) = field.split_once('=')?;
            let value = u32::from_str_radix(value.strip_prefix("0x")?, 16).ok()?;
            match key {
                "mcause" => mcause = Some(value),
                "mepc" => mepc = Some(value),
                "mtval" => mtval = Some(value),
                _ => return None,
            }
        }
        Some(Self {
            mcause: mcause?,
            mepc: mepc?,
            mtval: mtval?,
        })
    }

    /// The RISC-V privileged spec's name for `mcause` (exceptions; interrupts have bit 31 set).
    pub fn cause_name(&self) -> &'static str {
        if self.mcause & 0x8000_0000 != 0 {
            return "interrupt";
        }
        match self.mcause {
            0 => "instruction address misaligned",
            1 => "instruction access fault",
            2 => "illegal instruction",
            3 => "breakpoint",
            4 => "load address misaligned",
            5 => "load access fault",
            6 => "store/AMO address misaligned",
            7 => "store/AMO access fault",
            8 => "environment call from U-mode",
            11 => "environment call from M-mode",
            12 => "instruction page fault",
            13 => "load page fault",
            15 => "store/AMO page fault",
            _ => "reserved exception",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Buf {
        bytes: [u8; 96],
        len: usize,
    }

    impl core::fmt::Write for Buf {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let end = self.len + s.len();
            self.bytes
                .get_mut(self.len..end)
                .ok_or(core::fmt::Error)?
                .copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }

    #[test]
    fn report_line_round_trips() {
        let report = TrapReport {
            mcause: 2,
            mepc: 0x8000_0a3c,
            mtval: 0xdead_beef,
        };
        let mut buf = Buf {
            bytes: [0; 96],
            len: 0,
        };
        report.write_line(&mut buf).unwrap();
        let line = core::str::from_utf8(&buf.bytes[..buf.len]).unwrap();
        assert_eq!(
            line,
            "e-[trap mcause=0x00000002 mepc=0x80000a3c mtval=0xdeadbeef]"
        );
        assert_eq!(TrapReport::parse(line), Some(report));
        assert_eq!(report.cause_name(), "illegal instruction");
    }

    #[test]
    fn other_error_lines_are_not_traps() {
        assert_eq!(TrapReport::parse("e-[Unknown command: foo]"), None);
        assert_eq!(TrapReport::parse("e-[trap mcause=0x2 mepc=0x0]"), None);
    }
}
