//! `nsq_stat`: the NSQ utility; the logic lives in `nsq_utils::nsq_stat`.

fn main() {
    let args = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    std::process::exit(nsq_utils::nsq_stat::main(args));
}
