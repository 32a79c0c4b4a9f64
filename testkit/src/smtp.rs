//! A real SMTP server process (`smtp_server.py`, aiosmtpd) for the tests, with the messages it
//! accepted readable as they arrived. Each test starts its own, so one can refuse or defer
//! mail without touching another's.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How the server answers DATA.
pub enum SmtpMode {
    Accept,
    /// 451 for the first N messages, then 250.
    Defer(u32),
    /// 550 for every message.
    Reject,
}

pub struct SmtpServer {
    pub port: u16,
    dir: PathBuf,
    _process: Process,
}

enum Process {
    /// A test's own server, ended with the test.
    Owned { _child: Child },
    /// The process-wide one: it exits when this process does (its stdin closes).
    Shared { _child: std::process::Child, _stdin: std::process::ChildStdin },
}

/// A message the server accepted.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope recipients.
    pub envelope_to: String,
    /// The message as sent: headers and body.
    pub raw: String,
}

impl Received {
    /// The first header called `name` (unfolded), if any.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or_default();
        let mut lines = head.split("\r\n").peekable();
        while let Some(line) = lines.next() {
            let Some((key, value)) = line.split_once(':') else { continue };
            if key.eq_ignore_ascii_case(name) {
                let mut value = value.trim().to_owned();
                while let Some(next) = lines.peek().filter(|l| l.starts_with([' ', '\t'])) {
                    value.push(' ');
                    value.push_str(next.trim());
                    lines.next();
                }
                return Some(value);
            }
        }
        None
    }
}

impl SmtpServer {
    pub async fn start(mode: SmtpMode) -> Self {
        let dir = std::env::temp_dir().join(format!("crm-test-smtp-{}", uuid::Uuid::new_v4().simple()));
        let mode = match mode {
            SmtpMode::Accept => "accept".to_owned(),
            SmtpMode::Defer(n) => format!("defer:{n}"),
            SmtpMode::Reject => "reject".to_owned(),
        };
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/smtp_server.py");
        let mut process = Command::new("python3")
            .arg(script)
            .arg(&dir)
            .arg(mode)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs the test SMTP server (pip install aiosmtpd)");
        let stdout = process.stdout.take().expect("stdout");
        let mut first = String::new();
        tokio::time::timeout(Duration::from_secs(20), BufReader::new(stdout).read_line(&mut first))
            .await
            .expect("the test SMTP server starts")
            .expect("its first line");
        let port = first
            .trim()
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the test SMTP server said {first:?}: is aiosmtpd installed?"));
        Self { port, dir, _process: Process::Owned { _child: process } }
    }

    /// The test process's shared server in `rules` mode, which answers by recipient: mail to
    /// `bounce…@` is refused at RCPT (550), `refuse…@` at DATA (554), `deferN…@` gets 451 for
    /// its first N messages; anything else is accepted. Tests tell their mail apart by address.
    pub fn shared() -> &'static SmtpServer {
        static SHARED: std::sync::OnceLock<SmtpServer> = std::sync::OnceLock::new();
        SHARED.get_or_init(|| {
            use std::io::BufRead;
            let dir = std::env::temp_dir().join(format!("crm-test-smtp-{}", uuid::Uuid::new_v4().simple()));
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/smtp_server.py");
            let mut process = std::process::Command::new("python3")
                .arg(script)
                .arg(&dir)
                .arg("rules")
                .arg("--until-stdin-closes")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("python3 runs the test SMTP server (pip install aiosmtpd)");
            let stdin = process.stdin.take().expect("stdin");
            let stdout = process.stdout.take().expect("stdout");
            let mut first = String::new();
            std::io::BufReader::new(stdout).read_line(&mut first).expect("the test SMTP server starts");
            let port = first
                .trim()
                .strip_prefix("port ")
                .and_then(|p| p.parse().ok())
                .unwrap_or_else(|| panic!("the test SMTP server said {first:?}: is aiosmtpd installed?"));
            SmtpServer { port, dir, _process: Process::Shared { _child: process, _stdin: stdin } }
        })
    }

    /// The messages accepted so far for `address` (an envelope recipient), in order.
    pub fn received_by(&self, address: &str) -> Vec<Received> {
        self.received().into_iter().filter(|m| m.envelope_to.split(", ").any(|to| to == address)).collect()
    }

    /// Waits up to `within` until at least `count` messages arrived for `address`.
    pub async fn wait_for_mail_to(&self, address: &str, count: usize, within: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let received = self.received_by(address);
            if received.len() >= count || tokio::time::Instant::now() >= deadline {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `SMTP_URL` for this server (plain: it is on loopback).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    /// The messages accepted so far, in order.
    pub fn received(&self) -> Vec<Received> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return Vec::new() };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        paths.sort();
        paths
            .into_iter()
            .filter_map(|path| std::fs::read_to_string(path).ok())
            .map(|text| {
                let (first, raw) = text.split_once("\r\n").unwrap_or((&text, ""));
                let envelope_to = first.trim_start_matches("X-Envelope-To:").trim().to_owned();
                Received { envelope_to, raw: raw.to_owned() }
            })
            .collect()
    }

    /// Waits up to `within` until at least `count` messages arrived; returns them all.
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let received = self.received();
            if received.len() >= count || tokio::time::Instant::now() >= deadline {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Received {
    /// The message's text with every part decoded (base64 and quoted-printable undone), for
    /// finding links and names in it.
    pub fn text(&self) -> String {
        use base64::Engine;
        let mut out = String::new();
        let mut encoding = "";
        let mut in_body = false;
        let mut block = String::new();
        let flush = |encoding: &str, block: &mut String, out: &mut String| {
            match encoding {
                "base64" => {
                    let compact: String = block.chars().filter(|c| !c.is_whitespace()).collect();
                    let bytes = base64::engine::general_purpose::STANDARD.decode(compact).unwrap_or_default();
                    out.push_str(&String::from_utf8_lossy(&bytes));
                }
                "quoted-printable" => out.push_str(&decode_quoted_printable(block)),
                _ => out.push_str(block),
            }
            block.clear();
        };
        for line in self.raw.split("\r\n") {
            if line.starts_with("--") {
                flush(encoding, &mut block, &mut out);
                encoding = "";
                in_body = false;
                continue;
            }
            if !in_body {
                if line.is_empty() {
                    in_body = true;
                } else if let Some((key, value)) = line.split_once(':')
                    && key.eq_ignore_ascii_case("Content-Transfer-Encoding")
                {
                    encoding = if value.trim().eq_ignore_ascii_case("base64") {
                        "base64"
                    } else if value.trim().eq_ignore_ascii_case("quoted-printable") {
                        "quoted-printable"
                    } else {
                        ""
                    };
                }
                continue;
            }
            block.push_str(line);
            block.push_str("\r\n");
        }
        flush(encoding, &mut block, &mut out);
        out
    }
}

fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some(byte) = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
