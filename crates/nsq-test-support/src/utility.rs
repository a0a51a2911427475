//! Support for testing the command-line utilities: run one as a real process
//! (feeding stdin, collecting stdout/stderr, signalling it), and a small
//! recording HTTP server that answers what a test tells it to (an HTTP
//! endpoint for `nsq_to_http`, or a fake nsqlookupd).
//!
//! Everything here uses plain threads, so it works from sync and async tests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::daemon::binary_path;

/// Output lines of a process, with a condition variable to wait on.
#[derive(Default)]
struct Lines {
    lines: Mutex<Vec<String>>,
    grew: Condvar,
}

impl Lines {
    fn push(&self, line: String) {
        self.lines.lock().expect("lines lock").push(line);
        self.grew.notify_all();
    }

    fn wait(&self, timeout: Duration, done: impl Fn(&[String]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut lines = self.lines.lock().expect("lines lock");
        loop {
            if done(&lines) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            lines = self.grew.wait_timeout(lines, left).expect("lines lock").0;
        }
    }

    fn snapshot(&self) -> Vec<String> {
        self.lines.lock().expect("lines lock").clone()
    }
}

/// A utility process (`nsq_tail`, `to_nsq`, ...) under test; killed on drop.
pub struct Utility {
    child: Child,
    name: String,
    stdout: Arc<Lines>,
    stderr: Arc<Lines>,
}

impl Utility {
    /// Starts the built binary `name` with `args`. With `stdin` given, it is
    /// written in full and then closed; otherwise stdin stays open (and
    /// empty) until [`Utility::close_stdin`] or exit.
    pub fn spawn(name: &str, args: &[String], stdin: Option<&[u8]>) -> Utility {
        let mut child = Command::new(binary_path(name))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("failed to start {name}: {e}"));
        let stdout = Arc::new(Lines::default());
        let stderr = Arc::new(Lines::default());
        let out = child.stdout.take().expect("piped stdout");
        let err = child.stderr.take().expect("piped stderr");
        for (pipe, sink, label) in [
            (Box::new(out) as Box<dyn Read + Send>, stdout.clone(), "out"),
            (Box::new(err) as Box<dyn Read + Send>, stderr.clone(), "err"),
        ] {
            let name = name.to_string();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if std::env::var_os("NSQ_TEST_ECHO_LOGS").is_some() {
                        eprintln!("<{name} {label}> {line}");
                    }
                    sink.push(line);
                }
            });
        }
        if let Some(data) = stdin {
            let mut pipe = child.stdin.take().expect("piped stdin");
            let data = data.to_vec();
            std::thread::spawn(move || {
                let _ = pipe.write_all(&data);
            });
        }
        Utility {
            child,
            name: name.to_string(),
            stdout,
            stderr,
        }
    }

    /// Closes stdin (EOF for the process).
    pub fn close_stdin(&mut self) {
        self.child.stdin.take();
    }

    /// Waits until stdout has at least `n` lines; false on timeout.
    pub fn wait_for_stdout_lines(&self, n: usize, timeout: Duration) -> bool {
        self.stdout.wait(timeout, |l| l.len() >= n)
    }

    /// Waits until a stderr line contains `needle`; false on timeout.
    pub fn wait_for_stderr(&self, needle: &str, timeout: Duration) -> bool {
        self.stderr
            .wait(timeout, |l| l.iter().any(|x| x.contains(needle)))
    }

    /// Stdout lines so far.
    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout.snapshot()
    }

    /// Stderr so far.
    pub fn stderr_text(&self) -> String {
        self.stderr.snapshot().join("\n")
    }

    /// Sends `signal` (`"TERM"`, `"INT"`, `"HUP"`).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for exit; panics (with the process's stderr) after `timeout`.
    /// Output readers are given a moment to drain afterwards.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // The pipes close at exit; let the reader threads catch up.
                std::thread::sleep(Duration::from_millis(50));
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!(
                    "{} did not exit within {timeout:?}; stderr:\n{}",
                    self.name,
                    self.stderr_text()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Utility {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a utility to completion (bounded by `timeout`), returning its exit
/// status, stdout and stderr.
pub fn run_utility(
    name: &str,
    args: &[String],
    stdin: Option<&[u8]>,
    timeout: Duration,
) -> (ExitStatus, String, String) {
    let mut u = Utility::spawn(name, args, stdin.or(Some(b"")));
    let status = u.wait_exit(timeout);
    (status, u.stdout_lines().join("\n"), u.stderr_text())
}

/// One request received by [`TestHttpServer`].
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// Method, e.g. `POST`.
    pub method: String,
    /// Request target (path and query).
    pub target: String,
    /// Headers as sent.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type Responder = Box<dyn FnMut(&RecordedRequest) -> (u16, Vec<u8>) + Send>;

/// An HTTP/1.1 server on a free loopback port that records every request
/// and answers with whatever its responder returns. Keep-alive is
/// supported (HTTP clients pool connections). Stops accepting on drop.
pub struct TestHttpServer {
    addr: SocketAddr,
    requests: Arc<Lines2>,
    responder: Arc<Mutex<Responder>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

#[derive(Default)]
struct Lines2 {
    list: Mutex<Vec<RecordedRequest>>,
    grew: Condvar,
}

impl TestHttpServer {
    /// Starts the server with `responder` deciding each answer.
    pub fn start(
        responder: impl FnMut(&RecordedRequest) -> (u16, Vec<u8>) + Send + 'static,
    ) -> TestHttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind test http server");
        let addr = listener.local_addr().expect("local addr");
        let server = TestHttpServer {
            addr,
            requests: Arc::new(Lines2::default()),
            responder: Arc::new(Mutex::new(Box::new(responder))),
            stop: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        };
        let requests = server.requests.clone();
        let responder = server.responder.clone();
        let stop = server.stop.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let requests = requests.clone();
                let responder = responder.clone();
                std::thread::spawn(move || serve(stream, &requests, &responder));
            }
        });
        server
    }

    /// Replaces the responder.
    pub fn set_responder(
        &self,
        responder: impl FnMut(&RecordedRequest) -> (u16, Vec<u8>) + Send + 'static,
    ) {
        *self.responder.lock().expect("responder lock") = Box::new(responder);
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Requests received so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.list.lock().expect("requests lock").clone()
    }

    /// Waits until `done(requests)` holds; false on timeout.
    pub fn wait_for(&self, timeout: Duration, done: impl Fn(&[RecordedRequest]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut list = self.requests.list.lock().expect("requests lock");
        loop {
            if done(&list) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            list = self
                .requests
                .grew
                .wait_timeout(list, left)
                .expect("requests lock")
                .0;
        }
    }
}

impl Drop for TestHttpServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

/// Serves requests on one connection until it closes.
fn serve(stream: TcpStream, requests: &Lines2, responder: &Mutex<Responder>) {
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut writer = write_half;
    loop {
        let mut request_line = String::new();
        match reader.read_line(&mut request_line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut parts = request_line.trim_end().splitn(3, ' ');
        let method = parts.next().unwrap_or_default().to_string();
        let target = parts.next().unwrap_or_default().to_string();
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let request = RecordedRequest {
            method,
            target,
            headers,
            body,
        };
        let (status, reply) = (responder.lock().expect("responder lock"))(&request);
        {
            requests.list.lock().expect("requests lock").push(request);
            requests.grew.notify_all();
        }
        let head = format!(
            "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nContent-Type: application/json\r\n\r\n",
            reply.len()
        );
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(&reply).is_err() {
            return;
        }
    }
}

/// A fake nsqlookupd: answers `/lookup?topic=...` with the nsqd TCP/HTTP
/// ports in `nodes` (shared, so a test can change them), `/topics` with
/// `topics`, and `/ping` with `OK`.
pub struct FakeLookupd {
    /// The HTTP server.
    pub server: TestHttpServer,
    nodes: Arc<Mutex<Vec<(SocketAddr, SocketAddr)>>>,
    topics: Arc<Mutex<Vec<String>>>,
}

impl FakeLookupd {
    /// Starts a fake nsqlookupd listing `nodes` as (tcp, http) addresses.
    pub fn start(nodes: Vec<(SocketAddr, SocketAddr)>, topics: Vec<String>) -> FakeLookupd {
        let nodes = Arc::new(Mutex::new(nodes));
        let topics = Arc::new(Mutex::new(topics));
        let (n, t) = (nodes.clone(), topics.clone());
        let server = TestHttpServer::start(move |req| {
            if req.target.starts_with("/lookup") {
                let producers: Vec<serde_json::Value> = n
                    .lock()
                    .expect("nodes lock")
                    .iter()
                    .map(|(tcp, http)| {
                        serde_json::json!({
                            "remote_address": tcp.to_string(),
                            "hostname": "test",
                            "broadcast_address": tcp.ip().to_string(),
                            "tcp_port": tcp.port(),
                            "http_port": http.port(),
                            "version": "1.3.0",
                        })
                    })
                    .collect();
                let body = serde_json::json!({"channels": [], "producers": producers});
                (200, body.to_string().into_bytes())
            } else if req.target.starts_with("/topics") {
                let list = t.lock().expect("topics lock").clone();
                (
                    200,
                    serde_json::json!({ "topics": list })
                        .to_string()
                        .into_bytes(),
                )
            } else if req.target.starts_with("/ping") {
                (200, b"OK".to_vec())
            } else {
                (404, br#"{"message":"NOT_FOUND"}"#.to_vec())
            }
        });
        FakeLookupd {
            server,
            nodes,
            topics,
        }
    }

    /// The HTTP address (what `--lookupd-http-address` takes).
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Replaces the listed nsqd nodes.
    pub fn set_nodes(&self, nodes: Vec<(SocketAddr, SocketAddr)>) {
        *self.nodes.lock().expect("nodes lock") = nodes;
    }

    /// Replaces the listed topics.
    pub fn set_topics(&self, topics: Vec<String>) {
        *self.topics.lock().expect("topics lock") = topics;
    }

    /// How many `/lookup` queries arrived so far.
    pub fn lookups(&self) -> usize {
        self.server
            .requests()
            .iter()
            .filter(|r| r.target.starts_with("/lookup"))
            .count()
    }
}
