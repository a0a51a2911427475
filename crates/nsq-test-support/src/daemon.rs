//! Spawning a built binary (`target/<profile>/<name>`) and waiting until it listens.
//!
//! Daemons are started with `127.0.0.1:0` addresses; the bound ports are read
//! from their `TCP: listening on ...` / `HTTP: listening on ...` log lines, so
//! no test ever assumes a port is free and no test sleeps waiting for one.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a daemon may take to report its listeners.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Path of a workspace binary next to the running test executable.
/// Panics with the command to run when it has not been built.
pub fn binary_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current test executable path");
    // target/<profile>/deps/<test-binary> -> target/<profile>/<name>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable lives in target/<profile>/deps");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} not found: build the binaries first with `cargo build --workspace --bins`",
        path.display()
    );
    path
}

/// Extra ways to launch a daemon (see [`Daemon::start_with_options`]).
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// Start the process with SIGXFSZ ignored (through `sh -c 'trap "" XFSZ;
    /// exec ...'`; an ignored signal stays ignored across `exec`), so a write
    /// past RLIMIT_FSIZE fails with `EFBIG` instead of killing the process:
    /// a "disk full" that [`Daemon::set_file_size_limit`] can impose and lift.
    pub ignore_sigxfsz: bool,
}

/// A running daemon process, killed when dropped.
pub struct Daemon {
    child: Child,
    args: Vec<String>,
    expect: Vec<String>,
    options: StartOptions,
    /// Address of the TCP listener, if the daemon has one.
    pub tcp_addr: Option<SocketAddr>,
    /// Address of the HTTP listener, if the daemon has one.
    pub http_addr: Option<SocketAddr>,
    /// Temporary data directory owned by this daemon (removed on drop).
    pub data_dir: Option<tempfile::TempDir>,
    log: Arc<Mutex<Vec<String>>>,
    name: String,
}

impl Daemon {
    /// Starts `name` with `args` and waits for the listeners named in `expect`
    /// (`"TCP"`, `"HTTP"`) to be reported in its log.
    pub fn start(name: &str, args: &[String], expect: &[&str]) -> Daemon {
        Self::start_with_dir(name, args, expect, None)
    }

    /// Like [`Daemon::start`], keeping `data_dir` alive for the daemon's lifetime.
    pub fn start_with_dir(
        name: &str,
        args: &[String],
        expect: &[&str],
        data_dir: Option<tempfile::TempDir>,
    ) -> Daemon {
        Self::start_with_options(name, args, expect, data_dir, StartOptions::default())
    }

    /// Like [`Daemon::start_with_dir`], launched as `options` say.
    pub fn start_with_options(
        name: &str,
        args: &[String],
        expect: &[&str],
        data_dir: Option<tempfile::TempDir>,
        options: StartOptions,
    ) -> Daemon {
        let binary = binary_path(name);
        let mut command = if options.ignore_sigxfsz {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg("trap '' XFSZ; exec \"$0\" \"$@\"")
                .arg(&binary);
            c
        } else {
            Command::new(&binary)
        };
        let mut child = command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("failed to start {name}: {e}"));
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel::<String>();
        {
            let log = log.clone();
            let name = name.to_string();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if std::env::var_os("NSQ_TEST_ECHO_LOGS").is_some() {
                        eprintln!("<{name}> {line}");
                    }
                    log.lock().expect("log lock").push(line.clone());
                    let _ = tx.send(line);
                }
            });
        }
        let mut daemon = Daemon {
            child,
            args: args.to_vec(),
            expect: expect.iter().map(|s| s.to_string()).collect(),
            options,
            tcp_addr: None,
            http_addr: None,
            data_dir,
            log,
            name: name.to_string(),
        };
        let deadline = Instant::now() + START_TIMEOUT;
        let mut missing: Vec<&str> = expect.to_vec();
        while !missing.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(line) => line,
                Err(_) => {
                    let status = daemon.child.try_wait().ok().flatten();
                    panic!(
                        "{} did not report {:?} listeners (exit status {:?}); log:\n{}",
                        daemon.name,
                        missing,
                        status,
                        daemon.log_text()
                    );
                }
            };
            for kind in ["TCP", "HTTP"] {
                let marker = format!("{kind}: listening on ");
                if let Some(pos) = line.find(&marker) {
                    let addr_text = line[pos + marker.len()..].trim();
                    if let Ok(addr) = addr_text.parse::<SocketAddr>() {
                        match kind {
                            "TCP" => daemon.tcp_addr = Some(addr),
                            _ => daemon.http_addr = Some(addr),
                        }
                        missing.retain(|k| *k != kind);
                    }
                }
            }
        }
        daemon
    }

    /// Starts nsqd on free loopback ports with a fresh temporary data directory.
    pub fn nsqd(extra_args: &[&str]) -> Daemon {
        let dir = tempfile::tempdir().expect("temp data dir");
        let path = dir.path().to_path_buf();
        Self::nsqd_in(dir, &path, extra_args)
    }

    /// Starts nsqd on free loopback ports with `data_path` (kept alive by `dir`).
    pub fn nsqd_in(dir: tempfile::TempDir, data_path: &Path, extra_args: &[&str]) -> Daemon {
        let args = nsqd_args(data_path, extra_args);
        Self::start_with_dir("nsqd", &args, &["TCP", "HTTP"], Some(dir))
    }

    /// Starts nsqd like [`Daemon::nsqd`], launched as `options` say.
    pub fn nsqd_with_options(extra_args: &[&str], options: StartOptions) -> Daemon {
        let dir = tempfile::tempdir().expect("temp data dir");
        let args = nsqd_args(dir.path(), extra_args);
        Self::start_with_options("nsqd", &args, &["TCP", "HTTP"], Some(dir), options)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The resident set size in KiB (`VmRSS` of `/proc/<pid>/status`);
    /// `None` once the process is gone or on systems without `/proc`.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// Sets the process's soft RLIMIT_FSIZE to `bytes` (`None`: unlimited)
    /// with `prlimit --pid`. Start the daemon with
    /// [`StartOptions::ignore_sigxfsz`] so that writes past the limit fail
    /// with `EFBIG` (a full disk) rather than killing it.
    pub fn set_file_size_limit(&self, bytes: Option<u64>) {
        let soft = bytes.map_or_else(|| "unlimited".to_string(), |b| b.to_string());
        let status = Command::new("prlimit")
            .arg(format!("--pid={}", self.pid()))
            .arg(format!("--fsize={soft}:"))
            .status()
            .expect("run prlimit (util-linux)");
        assert!(status.success(), "prlimit --fsize={soft}: failed");
    }

    /// Stops this process (SIGKILL if it still runs) and starts the same
    /// binary again with the same arguments, launch options and data
    /// directory, on the same ports: `127.0.0.1:0` listener addresses are
    /// replaced by the addresses the first process bound. For "the daemon
    /// went away and came back" (clients and peers reconnect to the same
    /// address) and for restarts on the same data directory.
    pub fn restart_same_ports(&mut self) -> Daemon {
        self.kill();
        let args: Vec<String> = self
            .args
            .iter()
            .map(|a| {
                let fixed = |flag: &str, addr: Option<SocketAddr>| {
                    let value = a.strip_prefix(flag)?;
                    value.ends_with(":0").then_some(())?;
                    addr.map(|addr| format!("{flag}{addr}"))
                };
                fixed("--tcp-address=", self.tcp_addr)
                    .or_else(|| fixed("--http-address=", self.http_addr))
                    .unwrap_or_else(|| a.clone())
            })
            .collect();
        let expect: Vec<&str> = self.expect.iter().map(String::as_str).collect();
        Self::start_with_options(
            &self.name,
            &args,
            &expect,
            self.data_dir.take(),
            self.options.clone(),
        )
    }

    /// Stops this nsqd (SIGKILL if it still runs) and starts a new one on
    /// fresh ports with the same data directory and `extra_args`.
    pub fn restart_nsqd(&mut self, extra_args: &[&str]) -> Daemon {
        self.kill();
        let dir = self.take_data_dir().expect("nsqd owns a data directory");
        let path = dir.path().to_path_buf();
        Self::nsqd_in(dir, &path, extra_args)
    }

    /// The TCP address; panics if the daemon has none.
    pub fn tcp(&self) -> SocketAddr {
        self.tcp_addr.expect("daemon has a TCP listener")
    }

    /// The HTTP address; panics if the daemon has none.
    pub fn http(&self) -> SocketAddr {
        self.http_addr.expect("daemon has an HTTP listener")
    }

    /// Everything the daemon has logged so far.
    pub fn log_text(&self) -> String {
        self.log.lock().expect("log lock").join("\n")
    }

    /// Waits until a log line contains `needle`; false on timeout.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self
                .log
                .lock()
                .expect("log lock")
                .iter()
                .any(|l| l.contains(needle))
            {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `signal` (e.g. `"TERM"`, `"INT"`, `"KILL"`) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal("TERM");
        self.wait_exit(Duration::from_secs(30))
    }

    /// Waits for the process to exit; panics after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!(
                    "{} did not exit in time; log:\n{}",
                    self.name,
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Kills the process (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Takes the data directory out, so it outlives this process (for restarts).
    pub fn take_data_dir(&mut self) -> Option<tempfile::TempDir> {
        self.data_dir.take()
    }
}

/// nsqd's arguments: free loopback ports, `data_path`, then `extra_args`.
fn nsqd_args(data_path: &Path, extra_args: &[&str]) -> Vec<String> {
    let mut args = vec![
        "--tcp-address=127.0.0.1:0".to_string(),
        "--http-address=127.0.0.1:0".to_string(),
        format!("--data-path={}", data_path.display()),
        "--broadcast-address=127.0.0.1".to_string(),
    ];
    args.extend(extra_args.iter().map(|s| s.to_string()));
    args
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}
