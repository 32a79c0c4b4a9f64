//! HTTP written by hand, for what a well-behaved client library hides: how a server answers a
//! body it refuses before the client has finished sending it.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How an oversized body announces itself.
#[derive(Clone, Copy, Debug)]
pub enum Framing {
    /// `Content-Length` up front: a server can refuse before reading a byte.
    ContentLength,
    /// Chunked, with no length: a server must count as it reads.
    Chunked,
}

/// POSTs `len` bytes of JSON padding to `url` (`http://host:port/path`) and returns the status
/// code of the answer. The body is written from a task of its own, so an answer sent (and the
/// connection closed) before the upload ends is still read; writes after that are ignored.
pub async fn post_oversized(url: &str, len: usize, framing: Framing) -> u16 {
    let rest = url.strip_prefix("http://").expect("an http:// url");
    let (authority, path) =
        rest.split_once('/').map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    let stream = TcpStream::connect(authority).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let length_header = match framing {
        Framing::ContentLength => format!("Content-Length: {len}\r\n"),
        Framing::Chunked => "Transfer-Encoding: chunked\r\n".to_owned(),
    };
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Accept: application/json\r\n{length_header}\r\n"
    );
    let upload = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        let chunk = vec![b' '; 64 * 1024];
        let mut sent = 0;
        while sent < len {
            let n = chunk.len().min(len - sent);
            match framing {
                Framing::ContentLength => writer.write_all(&chunk[..n]).await?,
                Framing::Chunked => {
                    writer.write_all(format!("{n:x}\r\n").as_bytes()).await?;
                    writer.write_all(&chunk[..n]).await?;
                    writer.write_all(b"\r\n").await?;
                }
            }
            sent += n;
        }
        if let Framing::Chunked = framing {
            writer.write_all(b"0\r\n\r\n").await?;
        }
        writer.flush().await?;
        // Returned, not dropped: dropping the write half would half-close the connection, and
        // a server may take that for a client that left.
        Ok::<_, std::io::Error>(writer)
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(15), async {
        let mut buf = [0u8; 1024];
        while !answer.windows(2).any(|w| w == b"\r\n") {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    upload.abort();
    assert!(read.is_ok(), "no answer within 15 s");
    let status_line = String::from_utf8_lossy(&answer);
    status_line.split_whitespace().nth(1).and_then(|code| code.parse().ok()).unwrap_or_else(|| {
        panic!("{framing:?} POST of {len} bytes to {url}: no HTTP status line in {status_line:?}")
    })
}
