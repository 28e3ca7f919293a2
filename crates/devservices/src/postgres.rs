// Over 400 lines: a cluster's whole life (initdb as the server user when root, start on a free
// port with retries, status, CPU, stop, cleanup) for both xtask's persistent clusters and the
// tests' throwaway ones.
//! PostgreSQL clusters made with `initdb` and run with `pg_ctl`: persistent ones for
//! `cargo xtask up` ([`PgCluster`]) and throwaway ones for tests ([`PgServer`]).
//!
//! `initdb`, `pg_ctl` and `postgres` refuse to run as root, and CI runs as root: then
//! they run as the `postgres` user (`runuser -u postgres -- ...`) on folders that user
//! owns. Clients (`psql`, `pg_isready`) run as the caller.

use std::ffi::OsStr;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::error::{Error, Result, START_TIMEOUT};
use crate::pg_install::PgInstall;
use crate::process::{self, command_failed, command_line, exit_code, free_port, log_tail, run};

/// The OS user that owns clusters when the caller is root.
const SERVER_USER: &str = "postgres";
/// Attempts at finding a port nobody grabs between our probe and the server's bind.
const PORT_ATTEMPTS: usize = 3;

/// A PostgreSQL cluster (one data folder, one server) on 127.0.0.1.
///
/// Local development only: `trust` authentication for TCP on 127.0.0.1, superuser
/// `postgres`, UTF-8 with the `C` locale. The server's Unix socket is in the data folder,
/// never in `/var/run/postgresql`. Nothing happens on drop: see [`PgServer`] for a
/// cluster that goes away with its owner.
#[derive(Debug, Clone)]
pub struct PgCluster {
    install: PgInstall,
    data_dir: PathBuf,
    port: u16,
    durability: Durability,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Durability {
    /// Survives a crash of the machine.
    Durable,
    /// fsync off: fast, and lost on a crash, which is fine for a test's cluster.
    Throwaway,
}

/// What [`PgCluster::ensure_running`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartOutcome {
    /// The cluster did not exist: it was created with `initdb`, then started.
    Created,
    /// The cluster existed and was stopped: it was started.
    Started,
    /// The cluster was already running; nothing was done.
    AlreadyRunning,
}

/// Whether a cluster's server is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgStatus {
    /// The server runs.
    Running {
        /// The postmaster's process id.
        pid: u32,
        /// The port it listens on.
        port: u16,
    },
    /// The cluster exists, its server is not running.
    Stopped,
    /// There is no cluster in the data folder (no `PG_VERSION`).
    Absent,
}

impl PgCluster {
    /// A durable cluster in `data_dir` that listens on `port`, with the binaries found by
    /// [`PgInstall::find`]. Nothing is created or started until [`ensure_running`](Self::ensure_running).
    pub fn new(data_dir: impl Into<PathBuf>, port: u16) -> Result<PgCluster> {
        Ok(PgCluster::with_install(PgInstall::find()?, data_dir, port))
    }

    /// Like [`new`](Self::new), with given binaries.
    pub fn with_install(install: PgInstall, data_dir: impl Into<PathBuf>, port: u16) -> PgCluster {
        PgCluster { install, data_dir: data_dir.into(), port, durability: Durability::Durable }
    }

    /// Creates the cluster if `data_dir/PG_VERSION` is absent, starts it if it is not
    /// running, and waits until it accepts connections. Harmless to call again.
    ///
    /// A server killed with `kill -9` leaves a stale `postmaster.pid`; PostgreSQL sees
    /// its process is gone and starts normally (with crash recovery).
    pub fn ensure_running(&self) -> Result<StartOutcome> {
        let created = if self.data_dir.join("PG_VERSION").is_file() {
            false
        } else {
            self.init()?;
            true
        };
        if let PgStatus::Running { port, .. } = self.status()? {
            if port != self.port {
                return Err(Error::PortMismatch {
                    data_dir: self.data_dir.clone(),
                    running: port,
                    wanted: self.port,
                });
            }
            // It may be still starting (another caller just launched it).
            self.wait_ready()?;
            return Ok(StartOutcome::AlreadyRunning);
        }
        self.start()?;
        Ok(if created { StartOutcome::Created } else { StartOutcome::Started })
    }

    /// Stops the server (fast shutdown: sessions are disconnected, data is flushed).
    /// Returns whether it was running.
    pub fn stop(&self) -> Result<bool> {
        if !matches!(self.status()?, PgStatus::Running { .. }) {
            return Ok(false);
        }
        let mut pg_ctl = self.server_command("pg_ctl");
        pg_ctl.arg("stop").arg("-D").arg(&self.data_dir);
        pg_ctl.args(["-m", "fast", "-w", "-t", "60"]);
        run(&mut pg_ctl)?;
        Ok(true)
    }

    /// Whether the server runs, and on which port with which pid.
    pub fn status(&self) -> Result<PgStatus> {
        if !self.data_dir.join("PG_VERSION").is_file() {
            return Ok(PgStatus::Absent);
        }
        let mut pg_ctl = self.server_command("pg_ctl");
        pg_ctl.arg("status").arg("-D").arg(&self.data_dir);
        let output = process::output(&mut pg_ctl)?;
        // pg_ctl status: 0 running, 3 not running, 4 no usable data folder.
        match output.status.code() {
            Some(0) => {}
            Some(3) => return Ok(PgStatus::Stopped),
            Some(4) => return Ok(PgStatus::Absent),
            _ => return Err(command_failed(&pg_ctl, &output)),
        }
        let pid_file = self.data_dir.join("postmaster.pid");
        let text = fs::read_to_string(&pid_file).map_err(|source| Error::Io {
            action: "read",
            path: pid_file.clone(),
            source,
        })?;
        // postmaster.pid: line 1 the pid, line 4 the port (PostgreSQL's pidfile.h).
        let mut lines = text.lines().map(str::trim);
        let pid = lines.next().and_then(|l| l.parse().ok());
        let port = lines.nth(2).and_then(|l| l.parse().ok());
        // A postmaster killed with -9 is a zombie until init reaps it, and pg_ctl
        // counts a zombie as alive.
        if pid.is_some_and(is_zombie) {
            return Ok(PgStatus::Stopped);
        }
        Ok(PgStatus::Running {
            pid: pid.unwrap_or(0),
            // Not written yet when the server has only just started.
            port: port.unwrap_or(self.port),
        })
    }

    /// CPU seconds (user and system) the server has used so far: the postmaster's own and
    /// those of its children that have ended, i.e. the backends of closed connections and
    /// their parallel workers; the background processes (checkpointer, WAL writer) still run
    /// and are not in it, but an autovacuum worker that ends during a run is. Benchmarks
    /// take the difference around a run, after its connections closed. 0 when the server
    /// does not run.
    pub fn cpu_seconds(&self) -> Result<f64> {
        let PgStatus::Running { pid, .. } = self.status()? else { return Ok(0.0) };
        let path = PathBuf::from(format!("/proc/{pid}/stat"));
        let fields = proc_stat_fields(pid).map_err(|source| Error::Io {
            action: "read",
            path: path.clone(),
            source,
        })?;
        // Field 3 is fields[0]; utime, stime, cutime, cstime are fields 14-17.
        let ticks = fields
            .get(11..15)
            .and_then(|times| times.iter().map(|t| t.parse::<u64>().ok()).sum::<Option<u64>>())
            .ok_or_else(|| Error::Io {
                action: "find the CPU times (fields 14-17) in",
                path,
                source: std::io::Error::other(fields.join(" ")),
            })?;
        Ok(ticks as f64 / USER_HZ)
    }

    /// [`PgCluster::cpu_seconds`] once the backends of closed connections are reaped: two
    /// reads 200 ms apart agree. An error if they do not within 10 s.
    pub fn settled_cpu_seconds(&self) -> Result<f64> {
        let mut last = self.cpu_seconds()?;
        for _ in 0..50 {
            std::thread::sleep(std::time::Duration::from_millis(200));
            let now = self.cpu_seconds()?;
            if now == last {
                return Ok(now);
            }
            last = now;
        }
        Err(Error::Io {
            action: "read a settled CPU time (two reads 200 ms apart agreeing, within 10 s) of the server in",
            path: self.data_dir.clone(),
            source: std::io::Error::other(format!("still moving: {last} CPU-s")),
        })
    }

    /// The data folder.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The server's log file (inside the data folder).
    pub fn log_path(&self) -> PathBuf {
        self.data_dir.join("server.log")
    }

    /// The port the server is asked to listen on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The binaries this cluster runs with.
    pub fn install(&self) -> &PgInstall {
        &self.install
    }

    /// `postgres://postgres@127.0.0.1:{port}/{db}` (superuser, no password: trust auth).
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// psql's arguments to reach database `db` as `postgres`, without psqlrc, quietly, stopping
    /// at the first error: what every psql run against this cluster starts with.
    pub fn psql_args(&self, db: &str) -> Vec<String> {
        let port = self.port.to_string();
        ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-d", db]
            .map(str::to_owned)
            .to_vec()
    }

    /// Runs `sql` with `psql -XAtq` as `postgres` in database `db`, stopping at the first
    /// error, and returns its output without the final newline: one line per row,
    /// columns separated by `|`.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String> {
        let mut psql = Command::new(self.install.bin("psql"));
        psql.args(["-A", "-t"]).args(self.psql_args(db)).args(["-c", sql]);
        let output = run(&mut psql)?;
        let mut stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if stdout.ends_with('\n') {
            stdout.pop();
        }
        Ok(stdout)
    }

    /// `CREATE DATABASE "name"`.
    pub fn create_database(&self, name: &str) -> Result<()> {
        self.psql("postgres", &format!("CREATE DATABASE {}", quote_ident(name)))?;
        Ok(())
    }

    fn init(&self) -> Result<()> {
        create_dir_traversable(&self.data_dir)?;
        if running_as_root() {
            let mut chown = Command::new("chown");
            chown.arg("-R").arg(format!("{SERVER_USER}:")).arg(&self.data_dir);
            run(&mut chown)?;
            let mut probe = as_server_user("test");
            probe.arg("-w").arg(&self.data_dir);
            if exit_code(&mut probe)? != Some(0) {
                return Err(Error::NotAccessible { path: self.data_dir.clone(), user: SERVER_USER });
            }
        }

        let mut initdb = self.server_command("initdb");
        initdb.arg("-D").arg(&self.data_dir);
        initdb.args(["--auth=trust", "-U", "postgres", "--encoding=UTF8", "--locale=C"]);
        if self.durability == Durability::Throwaway {
            initdb.arg("--no-sync");
        }
        run(&mut initdb)?;

        // Appending keeps the file's owner (the server user).
        let conf = self.data_dir.join("postgresql.conf");
        OpenOptions::new()
            .append(true)
            .open(&conf)
            .and_then(|mut file| file.write_all(self.settings().as_bytes()))
            .map_err(|source| Error::Io { action: "append settings to", path: conf, source })
    }

    fn settings(&self) -> String {
        let socket_dir = self.data_dir.to_string_lossy();
        let mut settings = format!(
            "\n# Added by atl-devservices: a local development server.\n\
             listen_addresses = '127.0.0.1'\n\
             port = {port}\n\
             unix_socket_directories = '{socket_dir}'\n\
             # Bulk loading: rare checkpoints; wal_level=minimal lets COPY into a table\n\
             # created or truncated in the same transaction skip WAL (and use FREEZE).\n\
             max_wal_size = '4GB'\n\
             shared_buffers = '256MB'\n\
             wal_level = minimal\n\
             max_wal_senders = 0\n",
            port = self.port,
            socket_dir = quote_conf(&socket_dir),
        );
        if self.durability == Durability::Throwaway {
            settings.push_str(
                "# A test's cluster: losing it on a crash costs nothing, waiting on disks does.\n\
                 fsync = off\n\
                 synchronous_commit = off\n\
                 full_page_writes = off\n",
            );
        }
        settings
    }

    fn start(&self) -> Result<()> {
        self.clear_zombie_locks()?;
        let log = self.log_path();
        let mut pg_ctl = self.server_command("pg_ctl");
        pg_ctl.arg("start").arg("-D").arg(&self.data_dir).arg("-l").arg(&log);
        pg_ctl.args(["-w", "-t", &START_TIMEOUT.as_secs().to_string()]);
        // The port on the command line wins over postgresql.conf (temp clusters retry
        // on another port when theirs was taken).
        pg_ctl.arg("-o").arg(format!("-p {}", self.port));
        let output = process::output(&mut pg_ctl)?;
        if !output.status.success() {
            return Err(self.not_ready(format!(
                "`{}` failed ({}): {}",
                command_line(&pg_ctl),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        self.wait_ready()
    }

    /// A postmaster killed with -9 stays a zombie until init reaps it (some container
    /// inits take seconds); PostgreSQL would take its lock files (`postmaster.pid` and
    /// the socket's `.s.PGSQL.<port>.lock`) for a live server's and refuse to start. Old
    /// backends still attached to shared memory are caught by PostgreSQL's own
    /// shared-memory interlock.
    fn clear_zombie_locks(&self) -> Result<()> {
        let Ok(entries) = fs::read_dir(&self.data_dir) else {
            return Ok(());
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let is_lock =
                name == "postmaster.pid" || (name.starts_with(".s.PGSQL.") && name.ends_with(".lock"));
            let pid = fs::read_to_string(entry.path())
                .ok()
                .and_then(|text| text.lines().next()?.trim().parse().ok());
            if is_lock && pid.is_some_and(is_zombie) {
                fs::remove_file(entry.path()).map_err(|source| Error::Io {
                    action: "remove the stale lock file",
                    path: entry.path(),
                    source,
                })?;
            }
        }
        Ok(())
    }

    fn wait_ready(&self) -> Result<()> {
        let started = Instant::now();
        loop {
            let mut isready = Command::new(self.install.bin("pg_isready"));
            isready.args(["-q", "-h", "127.0.0.1", "-t", "2", "-U", "postgres", "-d", "postgres"]);
            isready.arg("-p");
            isready.arg(self.port.to_string());
            if exit_code(&mut isready)? == Some(0) {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(
                    self.not_ready(format!("pg_isready got no answer within {}s", START_TIMEOUT.as_secs()))
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn not_ready(&self, reason: String) -> Error {
        let log = self.log_path();
        Error::NotReady { service: "postgres", port: self.port, reason, log_tail: log_tail(&log, 20), log }
    }

    /// Immediate shutdown, errors ignored: for a cluster about to be deleted.
    fn stop_immediately(&self) {
        let mut pg_ctl = self.server_command("pg_ctl");
        pg_ctl.arg("stop").arg("-D").arg(&self.data_dir);
        pg_ctl.args(["-m", "immediate", "-w", "-t", "10"]);
        let _ = exit_code(&mut pg_ctl);
    }

    /// A server binary (`initdb`, `pg_ctl`) run as the caller, or as `postgres` under root.
    fn server_command(&self, name: &str) -> Command {
        as_server_user(self.install.bin(name))
    }
}

/// A throwaway PostgreSQL server for one test: a fresh cluster in a temporary folder
/// on a free port, stopped and deleted on drop (also when the test panics).
///
/// ```no_run
/// let pg = atl_devservices::PgServer::temp()?;
/// pg.create_database("warehouse")?;
/// assert_eq!(pg.psql("warehouse", "SELECT 40 + 2")?, "42");
/// let url = pg.url("warehouse"); // postgres://postgres@127.0.0.1:<port>/warehouse
/// # Ok::<(), atl_devservices::Error>(())
/// ```
#[derive(Debug)]
pub struct PgServer {
    cluster: PgCluster,
    // Dropped after `Drop::drop` stopped the server.
    _dir: TempDir,
}

impl PgServer {
    /// Creates and starts a throwaway cluster (fsync off) on a free port of 127.0.0.1.
    pub fn temp() -> Result<PgServer> {
        let install = PgInstall::find()?;
        let dir = tempfile::Builder::new().prefix("atl-pg-").tempdir().map_err(|source| Error::Io {
            action: "create a temporary folder in",
            path: std::env::temp_dir(),
            source,
        })?;
        let mut cluster = PgCluster {
            install,
            data_dir: dir.path().to_owned(),
            port: free_port()?,
            durability: Durability::Throwaway,
        };
        cluster.init()?;
        let mut attempt = 1;
        loop {
            match cluster.start() {
                Ok(()) => break,
                Err(Error::NotReady { ref log_tail, .. })
                    if attempt < PORT_ATTEMPTS && log_tail.contains("could not bind") =>
                {
                    attempt += 1;
                    cluster.port = free_port()?;
                }
                Err(e) => {
                    cluster.stop_immediately();
                    return Err(e);
                }
            }
        }
        Ok(PgServer { cluster, _dir: dir })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.cluster.port
    }

    /// `postgres://postgres@127.0.0.1:{port}/{db}`.
    pub fn url(&self, db: &str) -> String {
        self.cluster.url(db)
    }

    /// `CREATE DATABASE "name"`.
    pub fn create_database(&self, name: &str) -> Result<()> {
        self.cluster.create_database(name)
    }

    /// Runs `sql` with `psql -XAtq`; see [`PgCluster::psql`].
    pub fn psql(&self, db: &str, sql: &str) -> Result<String> {
        self.cluster.psql(db, sql)
    }

    /// The data folder (server-side `COPY ... FROM 'file'` needs files the server's
    /// OS user can read).
    pub fn data_dir(&self) -> &Path {
        self.cluster.data_dir()
    }

    /// The underlying cluster.
    pub fn cluster(&self) -> &PgCluster {
        &self.cluster
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.cluster.stop_immediately();
    }
}

/// `program` run as the caller, or as the server user when the caller is root.
fn as_server_user(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = if running_as_root() {
        let mut runuser = Command::new("runuser");
        runuser.args(["-u", SERVER_USER, "--"]).arg(program);
        runuser
    } else {
        Command::new(program)
    };
    // The server user may not be allowed into the caller's working directory.
    cmd.current_dir("/");
    cmd
}

/// Creates `dir` and its missing parents, readable and traversable by all (a umask of
/// 077 would otherwise lock the server user out of the folders we make).
fn create_dir_traversable(dir: &Path) -> Result<()> {
    let missing: Vec<&Path> = dir.ancestors().take_while(|d| !d.exists()).collect();
    for d in missing.into_iter().rev() {
        let io = |action, source| Error::Io { action, path: d.to_owned(), source };
        fs::create_dir(d).map_err(|e| io("create", e))?;
        fs::set_permissions(d, fs::Permissions::from_mode(0o755)).map_err(|e| io("chmod", e))?;
    }
    Ok(())
}

/// Whether `pid` is a process that exited and was not reaped yet (state `Z`).
fn is_zombie(pid: u32) -> bool {
    proc_stat_fields(pid).is_ok_and(|fields| fields.first().is_some_and(|state| state == "Z"))
}

/// Clock ticks per second of /proc's times (USER_HZ: 100 on Linux, proc(5)).
const USER_HZ: f64 = 100.0;

/// The fields of `/proc/<pid>/stat` from the third (the state) on: "pid (comm) state ...",
/// where comm may hold spaces and parentheses.
fn proc_stat_fields(pid: u32) -> std::io::Result<Vec<String>> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let (_, rest) =
        stat.rsplit_once(')').ok_or_else(|| std::io::Error::other(format!("no command in {stat:?}")))?;
    Ok(rest.split_whitespace().map(str::to_owned).collect())
}

/// Whether this process's effective uid is 0 (read from /proc, else from `id -u`).
fn running_as_root() -> bool {
    static ROOT: OnceLock<bool> = OnceLock::new();
    *ROOT.get_or_init(|| {
        if let Ok(status) = fs::read_to_string("/proc/self/status") {
            // "Uid:\treal\teffective\tsaved\tfs"
            if let Some(line) = status.lines().find(|l| l.starts_with("Uid:")) {
                return line.split_whitespace().nth(2) == Some("0");
            }
        }
        Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0")
    })
}

/// An SQL identifier in double quotes.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The inside of a single-quoted postgresql.conf string.
fn quote_conf(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\'', "''")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("mart"), "\"mart\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn throwaway_clusters_skip_fsync_durable_ones_do_not() {
        let install = PgInstall::at("/nonexistent");
        let mut cluster = PgCluster::with_install(install, "/tmp/x'y", 5555);
        assert!(!cluster.settings().contains("fsync"));
        assert!(cluster.settings().contains("unix_socket_directories = '/tmp/x''y'"));
        assert!(cluster.settings().contains("wal_level = minimal"));
        cluster.durability = Durability::Throwaway;
        assert!(cluster.settings().contains("fsync = off"));
    }
}
