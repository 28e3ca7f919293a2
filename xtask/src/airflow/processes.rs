//! Long-running processes of the Celery run (Redis, the Airflow components, the workers),
//! each logging to its own file and stopped with everything it started.
//!
//! A process's whole tree is tracked through /proc, not its process group: Airflow's task
//! runner and the BashOperator's shell each open a session of their own.

use std::collections::HashMap;
use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A process started by the run, stopped (with its descendants) on drop.
pub struct Daemon {
    pub name: String,
    child: Child,
    pub log: PathBuf,
}

impl Daemon {
    /// Starts `program args` in `cwd` with `env`, stdout and stderr into `log`.
    pub fn start(
        name: &str,
        program: &Path,
        args: &[&str],
        env: &[(String, String)],
        cwd: &Path,
        log: PathBuf,
    ) -> anyhow::Result<Daemon> {
        let out = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone().with_context(|| format!("opening {}", log.display()))?;
        let child = Command::new(program)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            // Its own group: a Ctrl-C of the xtask reaches it through Drop, once.
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {name} ({})", program.display()))?;
        Ok(Daemon { name: name.to_owned(), child, log })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process and every descendant, parents first.
    pub fn tree(&self) -> Vec<u32> {
        descendants(self.pid())
    }

    /// SIGKILL to the whole tree at once: a machine that dies.
    pub fn kill_tree(&mut self) -> anyhow::Result<Vec<u32>> {
        let tree = self.tree();
        signal("KILL", &tree)?;
        let _ = self.child.wait();
        Ok(tree)
    }

    /// Fails with the log's tail if the process has exited.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait().with_context(|| format!("waiting for {}", self.name))? {
            bail!(
                "{} exited ({status}); the end of {}:\n{}",
                self.name,
                self.log.display(),
                tail(&self.log, 30)
            );
        }
        Ok(())
    }

    /// SIGTERM to the tree, then SIGKILL to what is left after 20 s.
    pub fn stop(&mut self) {
        let tree = self.tree();
        let _ = signal("TERM", &tree);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) && tree.iter().all(|p| !alive(*p)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = signal("KILL", &tree.into_iter().filter(|p| alive(*p)).collect::<Vec<_>>());
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            self.stop();
        }
    }
}

/// `pid` and its descendants (from /proc's parent links), parents first.
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(child) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // pid (comm) state ppid ...: comm may hold spaces and parentheses.
        let Some(parent) = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)) else {
            continue;
        };
        if let Ok(parent) = parent.parse::<u32>() {
            children.entry(parent).or_default().push(child);
        }
    }
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        tree.extend(children.get(&tree[i]).into_iter().flatten());
        i += 1;
    }
    tree
}

/// The command name of `pid` (/proc/<pid>/comm), if it runs.
pub fn comm(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).ok().map(|c| c.trim().to_owned())
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

fn signal(name: &str, pids: &[u32]) -> anyhow::Result<()> {
    if pids.is_empty() {
        return Ok(());
    }
    // Some may have exited meanwhile: kill's status is not the point.
    Command::new("kill")
        .arg(format!("-{name}"))
        .args(pids.iter().map(u32::to_string))
        .stderr(Stdio::null())
        .status()
        .context("running kill")?;
    Ok(())
}

/// A port of 127.0.0.1 free right now.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0").context("finding a free port")?.local_addr()?.port())
}

/// Waits until something listens on 127.0.0.1:`port`.
pub fn wait_for_port(daemon: &mut Daemon, port: u16, timeout: Duration) -> anyhow::Result<()> {
    wait_until(&format!("{} to listen on port {port}", daemon.name), timeout, || {
        daemon.check_alive()?;
        Ok(TcpStream::connect(("127.0.0.1", port)).is_ok())
    })
}

/// Polls `ready` every 200 ms until it says yes, fails, or `timeout` passes.
pub fn wait_until(
    what: &str,
    timeout: Duration,
    mut ready: impl FnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if ready()? {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("waited {} s for {what}", timeout.as_secs());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The last `lines` lines of a log file.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
