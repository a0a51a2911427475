//! Drop-in for NSQ's `bench_reader`: `nsq_bench reader` under that name.

fn main() -> std::process::ExitCode {
    nsq_bench::cli::main(Some("reader"))
}
