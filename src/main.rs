fn main() -> std::process::ExitCode {
    sandbox_lint::cli::main()
}
