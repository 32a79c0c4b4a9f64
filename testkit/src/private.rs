//! Private instances of PostgreSQL, NATS and Redis for fault tests: each its own process on a
//! free loopback port with its data in a temp folder, so a test may kill, pause and restart it
//! without touching the shared services every other test uses. Dropping one stops it and
//! deletes its folder.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// A free loopback port (bound and released: another process may take it first, rarely).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn temp_dir(kind: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mtenant-{kind}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Sends `signal` (STOP, CONT, KILL, TERM) to a process.
pub fn signal(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} {pid}");
}

/// Waits until something accepts connections on `port`.
async fn wait_for_port(port: u16, what: &str) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not start listening on {port} within 10 s");
}

/// Waits until nothing accepts connections on `port`.
async fn wait_for_closed(port: u16, what: &str) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} still listens on {port} after 10 s");
}

/// A PostgreSQL cluster of the test's own (initdb into a temp folder; run as the `postgres`
/// user when the tests run as root, since PostgreSQL refuses root).
pub struct PrivatePostgres {
    dir: PathBuf,
    pub port: u16,
}

fn pg_bin(name: &str) -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed under /usr/lib/postgresql")
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin").join(name)))
        .filter(|path| path.exists())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| panic!("{name} is missing"))
}

fn running_as_root() -> bool {
    std::process::Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.starts_with(b"0\n"))
}

fn as_owner(program: &Path, args: &[&str]) -> Command {
    let mut command = if running_as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    };
    command.args(args).stdout(Stdio::null()).stderr(Stdio::null()).kill_on_drop(true);
    command
}

impl PrivatePostgres {
    /// A new cluster, started, with the application role of the shared one.
    pub async fn start() -> Self {
        let dir = temp_dir("pg");
        if running_as_root() {
            let status = std::process::Command::new("chown").args(["postgres:postgres"]).arg(&dir).status();
            assert!(status.is_ok_and(|s| s.success()), "chown the cluster folder");
        }
        let data = dir.join("data");
        let data_arg = data.to_string_lossy().into_owned();
        let status =
            as_owner(&pg_bin("initdb"), &["-D", &data_arg, "-U", "postgres", "-A", "trust", "-E", "UTF8"])
                .status()
                .await
                .expect("initdb");
        assert!(status.success(), "initdb");
        let cluster = Self { dir, port: free_port() };
        cluster.start_server().await;
        let admin = sea_orm::Database::connect(cluster.url("postgres")).await.expect("admin connection");
        sea_orm::ConnectionTrait::execute_unprepared(
            &admin,
            &format!(
                "CREATE ROLE {role} LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS;
                 ALTER ROLE {role} SET search_path = pg_catalog;",
                role = crate::stack::APP_ROLE
            ),
        )
        .await
        .expect("application role");
        cluster
    }

    /// Starts the server (again, after [`Self::kill`]): crash recovery runs first.
    pub async fn start_server(&self) {
        let data = self.dir.join("data").to_string_lossy().into_owned();
        let log = self.dir.join("log").to_string_lossy().into_owned();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=100 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let status = as_owner(&pg_bin("pg_ctl"), &["-D", &data, "-w", "-l", &log, "-o", &options, "start"])
            .status()
            .await;
        if !status.is_ok_and(|s| s.success()) {
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("pg_ctl start failed:\n{}", tail.lines().rev().take(20).collect::<Vec<_>>().join("\n"));
        }
        wait_for_port(self.port, "PostgreSQL").await;
    }

    /// A URL for `database` as the superuser.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// A URL for `database` as the application role.
    pub fn app_url(&self, database: &str) -> String {
        format!("postgres://{}@127.0.0.1:{}/{database}", crate::stack::APP_ROLE, self.port)
    }

    /// Creates `database` and applies the global migrations; returns its application URL.
    pub async fn migrated_database(&self, database: &str) -> String {
        let url = self.app_url(database);
        crm_migrations::ensure_database(&url).await.expect("create database");
        let conn = sea_orm::Database::connect(&url).await.expect("connect");
        crm_migrations::migrate_global(&conn).await.expect("global migrations");
        url
    }

    fn postmaster(&self) -> Option<u32> {
        let pid = std::fs::read_to_string(self.dir.join("data").join("postmaster.pid")).ok()?;
        pid.lines().next()?.trim().parse().ok()
    }

    /// Every process of the cluster: the postmaster and its children.
    fn processes(&self) -> Vec<u32> {
        let Some(postmaster) = self.postmaster() else { return Vec::new() };
        let children = std::process::Command::new("pgrep").args(["-P", &postmaster.to_string()]).output();
        let mut pids: Vec<u32> = children
            .map(|out| {
                String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.trim().parse().ok()).collect()
            })
            .unwrap_or_default();
        pids.insert(0, postmaster);
        pids
    }

    /// SIGKILL of the postmaster and every backend, as a machine losing power would stop it.
    pub async fn kill(&self) {
        for pid in self.processes() {
            signal(pid, "KILL");
        }
        wait_for_closed(self.port, "PostgreSQL").await;
        // A killed postmaster may linger as a zombie where nothing reaps orphans (a container's
        // first process), and its lock files would make the next start think it still runs.
        let _ = std::fs::remove_file(self.dir.join("data").join("postmaster.pid"));
        let _ = std::fs::remove_file(self.dir.join(format!(".s.PGSQL.{}.lock", self.port)));
    }

    /// SIGSTOP of every process: connections stay open and nothing answers.
    pub fn pause(&self) {
        for pid in self.processes() {
            signal(pid, "STOP");
        }
    }

    pub fn resume(&self) {
        for pid in self.processes() {
            signal(pid, "CONT");
        }
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        for pid in self.processes() {
            let _ = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A child process on a port of its own that a test can kill, pause and start again with the
/// same arguments (and so the same data folder).
pub struct Restartable {
    program: &'static str,
    args: Vec<String>,
    port: u16,
    child: Option<Child>,
}

impl Restartable {
    /// Starts it (again, after [`Self::kill`]) on the same port and data.
    pub async fn start(&mut self) {
        let child = Command::new(self.program)
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|err| panic!("{} cannot start: {err}", self.program));
        self.child = Some(child);
        wait_for_port(self.port, self.program).await;
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().and_then(Child::id).expect("running")
    }

    /// SIGKILL: what it had not written to disk is lost as it would be in a crash.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
        wait_for_closed(self.port, self.program).await;
    }

    /// SIGSTOP: connections stay open and nothing answers.
    pub fn pause(&self) {
        signal(self.pid(), "STOP");
    }

    pub fn resume(&self) {
        signal(self.pid(), "CONT");
    }
}

impl Drop for Restartable {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
    }
}

/// A `nats-server -js` of the test's own, its JetStream store in a temp folder.
pub struct PrivateNats {
    dir: PathBuf,
    process: Restartable,
}

impl PrivateNats {
    pub async fn start() -> Self {
        let dir = temp_dir("nats");
        let port = free_port();
        let args = vec![
            "-js".to_owned(),
            "-a".to_owned(),
            "127.0.0.1".to_owned(),
            "-p".to_owned(),
            port.to_string(),
            "-sd".to_owned(),
            dir.to_string_lossy().into_owned(),
        ];
        let mut process = Restartable { program: "nats-server", args, port, child: None };
        process.start().await;
        Self { dir, process }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.process.port)
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        if let Some(child) = self.process.child.as_mut() {
            let _ = child.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Killed, paused and restarted as its process.
impl std::ops::Deref for PrivateNats {
    type Target = Restartable;
    fn deref(&self) -> &Restartable {
        &self.process
    }
}

impl std::ops::DerefMut for PrivateNats {
    fn deref_mut(&mut self) -> &mut Restartable {
        &mut self.process
    }
}

/// A `redis-server` of the test's own that keeps nothing on disk.
pub struct PrivateRedis {
    process: Restartable,
}

impl PrivateRedis {
    pub async fn start() -> Self {
        let port = free_port();
        let args = ["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            .map(str::to_owned)
            .to_vec();
        let mut process = Restartable { program: "redis-server", args, port, child: None };
        process.start().await;
        Self { process }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.process.port)
    }
}

/// Killed, paused and restarted as its process.
impl std::ops::Deref for PrivateRedis {
    type Target = Restartable;
    fn deref(&self) -> &Restartable {
        &self.process
    }
}

impl std::ops::DerefMut for PrivateRedis {
    fn deref_mut(&mut self) -> &mut Restartable {
        &mut self.process
    }
}
