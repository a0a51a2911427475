//! `nsq_tail`: not built yet.

fn main() {
    eprintln!("nsq_tail is not available yet in this release");
    std::process::exit(1);
}
