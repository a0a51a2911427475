//! Client-side connection helpers shared by the writer and the reader:
//! connecting with the V2 magic, reading frames with [`ClientCodec`] from a
//! reused buffer, and the IDENTIFY body.

use bytes::{Buf, BufMut, BytesMut};
use nsq_protocol::{ClientCodec, Command, Frame, MAGIC_V2};
use std::net::SocketAddr;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::Decoder;

/// Errors are reported to the user as text.
pub type Result<T> = std::result::Result<T, String>;

/// Initial and minimum free space of a connection's read buffer.
pub const READ_CHUNK: usize = 64 * 1024;

/// Resolves `host:port` to one socket address.
pub fn resolve(addr: &str) -> Result<SocketAddr> {
    use std::net::ToSocketAddrs;
    addr.to_socket_addrs()
        .map_err(|e| format!("cannot resolve {addr}: {e}"))?
        .next()
        .ok_or_else(|| format!("cannot resolve {addr}: no address"))
}

/// Opens a TCP connection with Nagle disabled (like every NSQ client).
pub async fn connect(addr: SocketAddr) -> Result<TcpStream> {
    let stream = tokio::time::timeout(std::time::Duration::from_secs(5), TcpStream::connect(addr))
        .await
        .map_err(|_| format!("connect to {addr}: timed out"))?
        .map_err(|e| format!("connect to {addr}: {e}"))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("set_nodelay: {e}"))?;
    Ok(stream)
}

/// The IDENTIFY command a bench client sends. `extra` is spliced into the
/// JSON object as-is (for example `"output_buffer_size":-1`).
pub fn identify(client_id: &str, extra: &str) -> Command {
    let mut json = format!(
        "{{\"client_id\":\"{client_id}\",\"hostname\":\"{client_id}\",\"user_agent\":\"nsq_bench/{}\"",
        env!("CARGO_PKG_VERSION")
    );
    if !extra.is_empty() {
        json.push(',');
        json.push_str(extra);
    }
    json.push('}');
    Command::Identify(json.into_bytes().into())
}

/// Appends the V2 magic to `buf`.
pub fn put_magic(buf: &mut BytesMut) {
    buf.put_slice(MAGIC_V2);
}

/// Reads server frames from a reused buffer.
#[derive(Debug)]
pub struct FrameReader {
    /// Bytes read but not yet decoded.
    pub buf: BytesMut,
    codec: ClientCodec,
}

impl Default for FrameReader {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameReader {
    /// A reader with a [`READ_CHUNK`] buffer.
    pub fn new() -> Self {
        FrameReader {
            buf: BytesMut::with_capacity(READ_CHUNK),
            codec: ClientCodec {
                max_frame_size: Some(64 << 20),
            },
        }
    }

    /// The next complete frame already in the buffer, if any.
    #[inline]
    pub fn decode(&mut self) -> Result<Option<Frame>> {
        self.codec
            .decode(&mut self.buf)
            .map_err(|e| format!("bad frame from server: {e}"))
    }

    /// Reads once from `rd` into the buffer; an error at end of stream.
    pub async fn fill<R: AsyncRead + Unpin>(&mut self, rd: &mut R) -> Result<()> {
        self.make_room();
        match rd.read_buf(&mut self.buf).await {
            Ok(0) => Err("server closed the connection".to_string()),
            Ok(_) => Ok(()),
            Err(e) => Err(format!("read: {e}")),
        }
    }

    /// Ensures at least [`READ_CHUNK`] bytes of free space. Once the frames
    /// decoded earlier are dropped, this reuses the same allocation.
    #[inline]
    pub fn make_room(&mut self) {
        if self.buf.capacity() - self.buf.len() < READ_CHUNK / 4 {
            self.buf.reserve(READ_CHUNK);
        }
    }

    /// Reads until one whole frame is available and returns it.
    pub async fn next<R: AsyncRead + Unpin>(&mut self, rd: &mut R) -> Result<Frame> {
        loop {
            if let Some(frame) = self.decode()? {
                return Ok(frame);
            }
            self.fill(rd).await?;
        }
    }

    /// Reads frames until a response `OK`, answering heartbeats on `wr`.
    /// An error frame or any other response is an error.
    pub async fn expect_ok<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
        what: &str,
    ) -> Result<()> {
        loop {
            match self.next(stream).await? {
                Frame::Response(data) if &data[..] == nsq_protocol::frame::OK => return Ok(()),
                Frame::Response(data) if &data[..] == nsq_protocol::frame::HEARTBEAT => {
                    send_nop(stream).await?;
                }
                Frame::Response(data) => {
                    return Err(format!(
                        "{what}: unexpected response {:?}",
                        String::from_utf8_lossy(&data)
                    ))
                }
                Frame::Error(data) => {
                    return Err(format!("{what}: {}", String::from_utf8_lossy(&data)))
                }
                Frame::Message(_) => return Err(format!("{what}: unexpected message frame")),
            }
        }
    }
}

/// Accounts for a write of the front of `wbuf` by a connection that reads
/// and writes in one `select!` loop.
pub fn consumed(wbuf: &mut BytesMut, written: std::io::Result<usize>) -> Result<()> {
    let n = written.map_err(|e| format!("write: {e}"))?;
    wbuf.advance(n);
    if wbuf.is_empty() {
        wbuf.clear();
    }
    Ok(())
}

/// Checks a read into a frame buffer: an error, or end of stream (`peer`
/// closed the connection), stops the connection.
pub fn filled(read: std::io::Result<usize>, peer: &str) -> Result<()> {
    match read {
        Ok(0) => Err(format!("{peer} closed the connection")),
        Ok(_) => Ok(()),
        Err(e) => Err(format!("read: {e}")),
    }
}

/// Answers a heartbeat.
pub async fn send_nop<W: AsyncWrite + Unpin>(wr: &mut W) -> Result<()> {
    let mut buf = BytesMut::with_capacity(8);
    Command::Nop.encode(&mut buf);
    wr.write_all(&buf).await.map_err(|e| format!("write: {e}"))
}

/// Number of worker threads (and default connections): the CPU count, like
/// Go's `GOMAXPROCS`.
pub fn cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Sleeps until the wall-clock time `unix_secs` (no-op if it has passed).
pub async fn sleep_until_unix(unix_secs: f64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let wait = unix_secs - now;
    if wait > 0.0 && wait < 3600.0 {
        tokio::time::sleep(std::time::Duration::from_secs_f64(wait)).await;
    }
}

/// Formats the NSQ bench result line:
/// `duration: <d> - <X>mb/s - <Y>ops/s - <Z>us/op`.
pub fn result_line(duration: std::time::Duration, msgs: u64, size: u64) -> String {
    let secs = duration.as_secs_f64().max(1e-9);
    let us_per_op = if msgs == 0 {
        0.0
    } else {
        duration.as_micros() as f64 / msgs as f64
    };
    format!(
        "duration: {} - {:.3}mb/s - {:.3}ops/s - {:.3}us/op",
        nsq_flags::go_parse::format_duration(duration),
        (msgs * size) as f64 / secs / 1024.0 / 1024.0,
        msgs as f64 / secs,
        us_per_op
    )
}
