//! `nsq_load <conns|mesh|fill|drain> [flags]`: load tools for nsqd; see `--help`.

fn main() -> std::process::ExitCode {
    nsq_bench::load::cli::main()
}
