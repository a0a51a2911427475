//! nsqadmin's web UI in a real headless browser (Debian's `chromium` driven
//! through `chromedriver` over WebDriver), against a real cluster:
//! nsqlookupd, two nsqd and nsqadmin on free loopback ports.
//!
//! The test opens the topics page, follows the topic link, checks the depth
//! that was published, pauses a channel through the UI's confirmation
//! dialog and then sees the pause in both nsqd's own `/stats`. A screenshot
//! of every page is saved under `target/nsqadmin-screenshots/` for review.
//!
//! It needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (`scripts/test`
//! installs them) and fails, rather than skips, when they are missing.

use nsq_test_support::cluster::{eventually, Cluster, EVENTUALLY_TIMEOUT};
use nsq_test_support::http_request;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver process on a free port, killed on drop.
struct Driver {
    child: Child,
    addr: SocketAddr,
}

impl Driver {
    fn start() -> Driver {
        for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
            assert!(
                Path::new(path).exists(),
                "{path} is missing: the browser test needs Debian's {package} package \
                 (scripts/test installs it: apt-get install -y chromium chromium-driver)"
            );
        }
        let mut child = Command::new(CHROMEDRIVER)
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let marker = "started successfully on port ";
        let port = loop {
            let line = rx
                .recv_timeout(Duration::from_secs(20))
                .expect("chromedriver did not report its port");
            if let Some(pos) = line.find(marker) {
                let digits: String = line[pos + marker.len()..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                break digits.parse::<u16>().expect("chromedriver port");
            }
        };
        Driver {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One WebDriver session.
struct Browser {
    driver: SocketAddr,
    session: String,
}

impl Browser {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let target = format!("/session/{}{path}", self.session);
        webdriver(self.driver, method, &target, body).await
    }

    async fn open(driver: &Driver) -> Browser {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1300,1000"]
            }
        }}});
        let v = webdriver(driver.addr, "POST", "/session", Some(caps)).await;
        let session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {v}"))
            .to_string();
        Browser {
            driver: driver.addr,
            session,
        }
    }

    async fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url }))).await;
    }

    async fn script(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Waits until the page has rendered its data (the app marks `<body>`).
    async fn wait_loaded(&self) {
        eventually("the page to load its data", EVENTUALLY_TIMEOUT, || async {
            let v = self
                .script("return document.body.getAttribute('data-loaded');")
                .await;
            v.is_string().then_some(())
        })
        .await;
    }

    async fn find(&self, css: &str) -> String {
        let deadline = std::time::Instant::now() + EVENTUALLY_TIMEOUT;
        loop {
            let v = self
                .call(
                    "POST",
                    "/element",
                    Some(json!({"using": "css selector", "value": css})),
                )
                .await;
            if let Some(id) = v[ELEMENT_KEY].as_str() {
                return id.to_string();
            }
            if std::time::Instant::now() > deadline {
                let page = self.script("return document.body.innerText;").await;
                panic!(
                    "element {css} did not appear; the page shows:\n{}",
                    page.as_str().unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.call("POST", &format!("/element/{id}/click"), Some(json!({})))
            .await;
    }

    async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        let v = self.call("GET", &format!("/element/{id}/text"), None).await;
        v.as_str().unwrap_or_default().to_string()
    }

    async fn path(&self) -> String {
        let v = self.script("return location.pathname;").await;
        v.as_str().unwrap_or_default().to_string()
    }

    async fn screenshot(&self, name: &str) {
        let v = self.call("GET", "/screenshot", None).await;
        let png = base64_decode(v.as_str().expect("screenshot data"));
        assert!(png.starts_with(b"\x89PNG"), "screenshot is not a PNG");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("create screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }
}

impl Drop for Browser {
    /// Ends the session (and so the browser) even when the test failed
    /// half-way; killing chromedriver alone would leave chromium running.
    fn drop(&mut self) {
        use std::io::{Read, Write};
        let Ok(mut stream) = std::net::TcpStream::connect(self.driver) else {
            return;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let request = format!(
            "DELETE /session/{} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\n\r\n",
            self.session, self.driver
        );
        if stream.write_all(request.as_bytes()).is_ok() {
            // Wait for the answer: the browser has quit once it arrives.
            let _ = stream.read(&mut [0u8; 1024]);
        }
    }
}

/// One WebDriver command; returns its `value`, panicking on a WebDriver error
/// other than "no such element" (which [`Browser::find`] retries).
async fn webdriver(driver: SocketAddr, method: &str, target: &str, body: Option<Value>) -> Value {
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let (status, raw) = tokio::time::timeout(
        Duration::from_secs(60),
        http_exchange(driver, method, target, &bytes),
    )
    .await
    .unwrap_or_else(|_| panic!("WebDriver {method} {target} timed out"));
    let v: Value = serde_json::from_slice(&raw).unwrap_or_else(|e| {
        panic!(
            "WebDriver answer is not JSON ({e}): {}",
            String::from_utf8_lossy(&raw)
        )
    });
    if status != 200 {
        if v["value"]["error"] == "no such element" {
            return Value::Null;
        }
        panic!("WebDriver {method} {target} failed: {v}");
    }
    v["value"].clone()
}

/// A request to chromedriver, which keeps connections open even when asked
/// to close them: the body is read by its `Content-Length`.
async fn http_exchange(
    addr: SocketAddr,
    method: &str,
    target: &str,
    body: &[u8],
) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(addr)
        .await
        .expect("connect chromedriver");
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("send head");
    stream.write_all(body).await.expect("send body");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = stream.read(&mut chunk).await.expect("read head");
        assert!(n > 0, "chromedriver closed the connection early");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .expect("chromedriver answers carry Content-Length");
    while buf.len() < header_end + length {
        let n = stream.read(&mut chunk).await.expect("read body");
        assert!(n > 0, "chromedriver closed the connection early");
        buf.extend_from_slice(&chunk[..n]);
    }
    (status, buf[header_end..header_end + length].to_vec())
}

fn screenshot_dir() -> PathBuf {
    // target/<profile>/deps/<test binary> -> target/nsqadmin-screenshots
    std::env::current_exe()
        .ok()
        .and_then(|p| p.ancestors().nth(3).map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("nsqadmin-screenshots")
}

fn base64_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' | b'\n' | b'\r' => continue,
            other => panic!("bad base64 byte {other}"),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

async fn channel_paused(nsqd: SocketAddr, topic: &str, channel: &str) -> Option<bool> {
    let r = http_request(
        nsqd,
        "GET",
        &format!("/stats?format=json&topic={topic}"),
        b"",
    )
    .await;
    let stats = r.json();
    stats["topics"]
        .as_array()?
        .iter()
        .find(|t| t["topic_name"] == topic)?["channels"]
        .as_array()?
        .iter()
        .find(|c| c["channel_name"] == channel)?["paused"]
        .as_bool()
}

#[tokio::test]
async fn browse_topic_and_pause_a_channel_from_the_ui() {
    let cluster = Cluster::start(2, &[]);
    for (nsqd, n) in [(cluster.nsqds[0].http(), 3), (cluster.nsqds[1].http(), 4)] {
        let r = http_request(nsqd, "POST", "/channel/create?topic=web&channel=ui", b"").await;
        assert_eq!(r.status, 404, "channel/create needs the topic first");
        for path in [
            "/topic/create?topic=web",
            "/channel/create?topic=web&channel=ui",
        ] {
            assert_eq!(http_request(nsqd, "POST", path, b"").await.status, 200);
        }
        for i in 0..n {
            let r = http_request(nsqd, "POST", "/pub?topic=web", format!("m{i}").as_bytes()).await;
            assert_eq!(r.status, 200);
        }
    }
    cluster.wait_producers("web", 2).await;
    let base = format!("http://{}", cluster.admin_http());

    let driver = Driver::start();
    let browser = Browser::open(&driver).await;

    // Topics page lists the topic.
    browser.goto(&format!("{base}/")).await;
    browser.wait_loaded().await;
    let list = browser.text("#topics-table").await;
    assert!(list.contains("web"), "topics table: {list}");
    browser.screenshot("01-topics").await;

    // Open the topic from the list (in-app navigation, no reload).
    browser.click("#topics-table a[href$='/topics/web']").await;
    eventually("the topic page", EVENTUALLY_TIMEOUT, || async {
        let h = browser
            .script("var h=document.querySelector('h1');return h?h.textContent:'';")
            .await;
        (h.as_str() == Some("Topic: web")).then_some(())
    })
    .await;
    assert_eq!(browser.path().await, "/topics/web");
    let nodes_table = browser.text("#topic-nodes").await;
    assert!(nodes_table.contains("Total"), "{nodes_table}");
    let total_row = browser.text("#topic-nodes tr.total").await;
    assert!(
        total_row.contains('7'),
        "published 7 messages in all: {total_row}"
    );
    let channel_row = browser.text("#topic-channels tbody tr").await;
    let cells: Vec<&str> = channel_row.split_whitespace().collect();
    assert_eq!(cells.first(), Some(&"ui"), "{channel_row}");
    assert_eq!(cells.get(1), Some(&"7"), "channel depth: {channel_row}");
    browser.screenshot("02-topic").await;

    // Channel page: pause through the confirmation dialog.
    browser
        .click("#topic-channels a[href$='/topics/web/ui']")
        .await;
    eventually("the channel page", EVENTUALLY_TIMEOUT, || async {
        let h = browser
            .script("var h=document.querySelector('h1');return h?h.textContent:'';")
            .await;
        (h.as_str() == Some("Channel: web / ui")).then_some(())
    })
    .await;
    let total = browser.text("#channel-nodes tr.total").await;
    assert!(total.starts_with("Total 7"), "{total}");
    for nsqd in &cluster.nsqds {
        assert_eq!(channel_paused(nsqd.http(), "web", "ui").await, Some(false));
    }
    browser.click("button[data-action='pause-channel']").await;
    eventually("the confirmation dialog", EVENTUALLY_TIMEOUT, || async {
        let open = browser
            .script("return document.getElementById('confirm').open;")
            .await;
        (open == Value::Bool(true)).then_some(())
    })
    .await;
    browser.screenshot("03-confirm-pause").await;
    browser.click("#confirm-ok").await;
    for nsqd in &cluster.nsqds {
        let addr = nsqd.http();
        eventually(
            "the channel paused in nsqd /stats",
            EVENTUALLY_TIMEOUT,
            || async { (channel_paused(addr, "web", "ui").await == Some(true)).then_some(()) },
        )
        .await;
    }
    // The page shows the new state without a reload.
    eventually("the UnPause button", EVENTUALLY_TIMEOUT, || async {
        let v = browser
            .script("return !!document.querySelector(\"button[data-action='unpause-channel']\");")
            .await;
        (v == Value::Bool(true)).then_some(())
    })
    .await;
    let heading = browser.text("h1").await;
    assert!(heading.to_lowercase().contains("paused"), "{heading}");
    browser.screenshot("04-channel-paused").await;

    // The other pages render too.
    for (name, path, css) in [
        ("05-nodes", "/nodes", "#nodes-table"),
        ("07-counter", "/counter", "#counter-value"),
        ("08-lookup", "/lookup", "#create-form"),
    ] {
        browser.goto(&format!("{base}{path}")).await;
        browser.wait_loaded().await;
        browser.find(css).await;
        browser.screenshot(name).await;
    }
    let node = format!("127.0.0.1:{}", cluster.nsqds[0].http().port());
    browser.goto(&format!("{base}/nodes/{node}")).await;
    browser.wait_loaded().await;
    let node_text = browser.text("main").await;
    assert!(node_text.contains(&format!("Node: {node}")), "{node_text}");
    browser.screenshot("06-node").await;

    let errors = browser.text("#alerts").await;
    assert!(errors.is_empty(), "unexpected banners: {errors}");
}
