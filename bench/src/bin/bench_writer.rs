//! Drop-in for NSQ's `bench_writer`: `nsq_bench writer` under that name.

fn main() -> std::process::ExitCode {
    nsq_bench::cli::main(Some("writer"))
}
