//! `nsq_bench <writer|reader|latency|null-server> [flags]`: see `--help`.

fn main() -> std::process::ExitCode {
    nsq_bench::cli::main(None)
}
