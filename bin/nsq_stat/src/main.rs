//! `nsq_stat`: not built yet.

fn main() {
    eprintln!("nsq_stat is not available yet in this release");
    std::process::exit(1);
}
