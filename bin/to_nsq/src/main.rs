//! `to_nsq`: not built yet.

fn main() {
    eprintln!("to_nsq is not available yet in this release");
    std::process::exit(1);
}
