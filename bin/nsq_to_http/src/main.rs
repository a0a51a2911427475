//! `nsq_to_http`: not built yet.

fn main() {
    eprintln!("nsq_to_http is not available yet in this release");
    std::process::exit(1);
}
