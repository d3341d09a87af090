fn main() -> std::process::ExitCode {
    harbor::cli::main()
}
