//! Child processes in their own process group, so stopping one stops everything it spawned
//! (wrangler starts workerd; chromedriver starts Chromium).

use std::fs::File;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("the OS hands out a free port")
}

/// A fresh, empty directory under the system temp dir, removed by [`TempDir::drop`].
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `tally-<label>-<pid>-<nanos>`.
    pub fn new(label: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path =
            std::env::temp_dir().join(format!("tally-{label}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).expect("temp dir can be created");
        Self(path)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    /// Removes the directory, unless `TALLY_KEEP_TEST_STATE` is set: then the worker's state
    /// and logs stay for a look after a failure (the path is printed).
    fn drop(&mut self) {
        if std::env::var_os("TALLY_KEEP_TEST_STATE").is_some() {
            eprintln!("kept {}", self.0.display());
            return;
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running process group, stopped on drop: SIGTERM to the group, then SIGKILL if it lingers.
pub struct Group {
    child: Child,
    name: String,
    log: PathBuf,
}

impl Group {
    /// Starts `command` as the leader of a new process group, output to `log`.
    pub fn spawn(name: &str, mut command: Command, log: PathBuf) -> Self {
        let out = File::create(&log).expect("log file can be created");
        let err = out.try_clone().expect("log file can be cloned");
        command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {name}: {e}"));
        Self {
            child,
            name: name.to_owned(),
            log,
        }
    }

    /// The last lines the process printed, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Kills the whole group at once, as a crash or power loss would, and waits for the leader.
    pub fn kill_now(&mut self) {
        self.signal_group("KILL");
        let _ = self.child.wait();
    }

    /// Panics with the log if the process has already exited.
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited early ({status}):\n{}",
                self.name,
                self.log_tail()
            );
        }
    }

    /// Sends `signal` (e.g. `TERM`) to the whole group. `kill -s SIG -- -PGID` is the form procps
    /// honours for groups (`kill -TERM -PGID` silently does nothing).
    fn signal_group(&self, signal: &str) {
        let _ = Command::new("kill")
            .args(["-s", signal, "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.signal_group("TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // The leader may be gone while children linger: always sweep the group.
        self.signal_group("KILL");
        let _ = self.child.wait();
    }
}
