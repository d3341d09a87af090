//! The `harbor` command line; everything it does lives in the library (`harbor::cli`).

fn main() -> std::process::ExitCode {
    harbor::cli::main()
}
