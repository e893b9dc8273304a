//! The `auditpulse` binary: everything happens in `auditpulse::cli`.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    auditpulse::cli::main()
}
