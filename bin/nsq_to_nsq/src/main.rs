//! `nsq_to_nsq`: not built yet.

fn main() {
    eprintln!("nsq_to_nsq is not available yet in this release");
    std::process::exit(1);
}
