//! `clearinghouse`: see `clearinghouse --help`.

fn main() -> std::process::ExitCode {
    clearinghouse::cli::main()
}
