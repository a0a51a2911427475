//! The top-level docker-compose.yml, run without Docker: `scripts/compose-check`
//! starts every service's exact `command:` line as a local process (debug
//! binaries, loopback ports, temporary data directories) and checks
//! publish -> lookup -> consume on both nsqd, nsqadmin's `/api/nodes` when
//! nsqadmin is available, and clean SIGTERM shutdown.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The script bounds itself with `--timeout`; this is the backstop should it hang.
const LIMIT: Duration = Duration::from_secs(90);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the repository")
        .to_path_buf()
}

#[test]
fn compose_file_cluster_publishes_looks_up_and_consumes() {
    let nsqd = nsq_test_support::daemon::binary_path("nsqd");
    nsq_test_support::daemon::binary_path("nsqlookupd");
    let bin_dir = nsqd.parent().expect("binary directory");
    let root = repo_root();
    let script = root.join("scripts/compose-check");

    let mut child = Command::new("python3")
        .arg(&script)
        .arg("--bin-dir")
        .arg(bin_dir)
        .arg("--file")
        .arg(root.join("docker-compose.yml"))
        .arg("--timeout")
        .arg("45")
        .current_dir(&root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run python3 {}: {e}", script.display()));

    // Drain the pipes on threads so a chatty failure cannot block the script.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });

    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for compose-check") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    print!("{stdout}");
    eprint!("{stderr}");

    let status = status.unwrap_or_else(|| panic!("compose-check still running after {LIMIT:?}"));
    assert!(
        status.success(),
        "scripts/compose-check failed ({status}):\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("OK: the compose cluster works"),
        "compose-check did not report success:\n{stdout}"
    );
    for line in [
        "PASS nsqd1 registered with nsqlookupd as broadcast address 'nsqd1'",
        "PASS nsqd2 registered with nsqlookupd as broadcast address 'nsqd2'",
        "PASS each nsqd kept its own topic in its own data directory",
    ] {
        assert!(stdout.contains(line), "missing `{line}` in:\n{stdout}");
    }
    assert_eq!(
        stdout.matches("and FIN'd it").count(),
        2,
        "expected one message consumed from each nsqd:\n{stdout}"
    );
}
