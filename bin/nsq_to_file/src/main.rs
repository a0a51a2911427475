//! `nsq_to_file`: not built yet.

fn main() {
    eprintln!("nsq_to_file is not available yet in this release");
    std::process::exit(1);
}
