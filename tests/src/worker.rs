//! `wrangler dev` on a free port with fresh local D1/KV/Queues state, migrated and seeded with
//! the demo data by the same script the run command uses, plus the tests' fixtures.

use crate::process::{free_port, Group, TempDir};
use crate::repo_root;
use std::process::Command;
use std::time::{Duration, Instant};

/// A running worker. Dropping it stops wrangler and workerd and deletes the state.
pub struct TestWorker {
    pub base_url: String,
    pub port: u16,
    network: Network,
    // Field order matters: the processes stop before their state directory is removed.
    group: Group,
    _state: TempDir,
}

/// Test data loaded after the demo seed, in this order, before the worker starts:
/// the bulk account (5,000 products), then the copies of the demo account, made while the demo
/// account is still exactly as seeded (see `crate::accounts`).
const FIXTURES: [&str; 3] = [
    "tests/fixtures/large-account.sql",
    "tests/fixtures/demo-copies.sql",
    "tests/fixtures/retention.sql",
];

/// The deep health check's secret in the tests.
pub const HEALTH_SECRET: &str = "test-health-secret";
const HEALTH_SECRET_VAR: &str = "HEALTH_SECRET:test-health-secret";

/// How long a cold `wrangler dev` may take to answer (5–11 s seen on 2 cores).
const READY_TIMEOUT: Duration = Duration::from_secs(90);

fn wrangler() -> std::path::PathBuf {
    repo_root().join("node_modules/.bin/wrangler")
}

fn check_built() {
    let root = repo_root();
    for (path, what) in [
        ("edge/build/worker/shim.mjs", "the worker"),
        ("dist/index.html", "the app"),
    ] {
        assert!(
            root.join(path).exists(),
            "{what} is not built ({path} is missing): run scripts/build.sh (scripts/test.sh does)"
        );
    }
    assert!(
        wrangler().exists(),
        "wrangler is not installed: run scripts/setup.sh"
    );
}

/// Which storefront addresses the worker may call (its `TALLY_NETWORK` setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// As the run command runs it: storefronts on this machine (the sandboxes) allowed.
    Development,
    /// As deployed: only public https addresses.
    Production,
}

impl TestWorker {
    /// Starts a worker that may call storefronts on this machine, and waits until
    /// `/api/v1/health` answers 200.
    pub fn start() -> Self {
        Self::start_on(Network::Development)
    }

    /// Starts a worker with `network`'s address rules.
    pub fn start_on(network: Network) -> Self {
        check_built();
        let state = TempDir::new("worker");
        let persist = state.path().join("state");
        let status = Command::new(repo_root().join("scripts/db.sh"))
            .arg(&persist)
            .status()
            .expect("scripts/db.sh runs");
        assert!(status.success(), "migrating and seeding local D1 failed");
        // One file, so wrangler starts once for all of them.
        let fixtures = state.path().join("fixtures.sql");
        let sql: Vec<String> = FIXTURES
            .iter()
            .map(|f| {
                std::fs::read_to_string(repo_root().join(f))
                    .unwrap_or_else(|e| panic!("reading {f}: {e}"))
            })
            .collect();
        std::fs::write(&fixtures, sql.join("\n")).expect("the fixtures can be written");
        let status = Command::new(wrangler())
            .current_dir(repo_root().join("edge"))
            .args(["d1", "execute", "tally", "--local", "--persist-to"])
            .arg(&persist)
            .arg("--file")
            .arg(&fixtures)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("wrangler d1 execute runs");
        assert!(
            status.success(),
            "loading {} failed",
            FIXTURES.join(" and ")
        );

        let port = free_port();
        let group = spawn_wrangler(port, &persist, &state.path().join("wrangler.log"), network);
        let mut worker = Self {
            base_url: format!("http://127.0.0.1:{port}"),
            port,
            network,
            group,
            _state: state,
        };
        worker.wait_ready();
        worker
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + READY_TIMEOUT;
        let url = format!("{}/api/v1/health", self.base_url);
        loop {
            self.group.assert_running();
            if answers_200(self.port, "/api/v1/health") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "wrangler dev did not answer {url} within {READY_TIMEOUT:?}:\n{}",
                self.group.log_tail()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Stops `wrangler dev` (and workerd) at once, as a crash would, and starts it again on the
    /// same port and state. Queue messages in flight are whatever workerd kept.
    pub fn restart(&mut self) {
        let persist = self.state_dir();
        let log = self._state.path().join("wrangler-restarted.log");
        self.group.kill_now();
        self.group = spawn_wrangler(self.port, &persist, &log, self.network);
        self.wait_ready();
    }

    /// Where the local D1/KV/Queues state lives (for loading extra fixtures).
    pub fn state_dir(&self) -> std::path::PathBuf {
        self._state.path().join("state")
    }

    /// Rows of a read-only `sql` query on the worker's local D1 (for the few facts no API
    /// shows, like how a password is stored).
    pub fn query(&self, sql: &str) -> Vec<serde_json::Value> {
        query_d1(&self.state_dir(), sql)
    }

    /// The worker's log so far (for failure messages).
    pub fn log_tail(&self) -> String {
        self.group.log_tail()
    }
}

/// Rows of a read-only `sql` on the local D1 in `persist`, read from its SQLite file with
/// `sqlite3 -json` (installed with the browser tools; a reader beside the running worker is
/// safe in SQLite's WAL mode).
pub fn query_d1(persist: &std::path::Path, sql: &str) -> Vec<serde_json::Value> {
    let dir = persist.join("v3/d1/miniflare-D1DatabaseObject");
    let file = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| {
            path.extension().is_some_and(|ext| ext == "sqlite")
                && path.file_stem().is_some_and(|stem| stem != "metadata")
        })
        .expect("the local D1 database file");
    let output = Command::new("sqlite3")
        .arg("-json")
        .arg(&file)
        .arg(sql)
        .output()
        .expect("sqlite3 runs");
    assert!(
        output.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    if output.stdout.iter().all(u8::is_ascii_whitespace) {
        return Vec::new(); // sqlite3 prints nothing for no rows
    }
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{sql}: sqlite3's answer is not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn spawn_wrangler(
    port: u16,
    persist: &std::path::Path,
    log: &std::path::Path,
    network: Network,
) -> Group {
    let mut command = Command::new(wrangler());
    command
        .current_dir(repo_root().join("edge"))
        .args(["dev", "--ip", "127.0.0.1", "--port", &port.to_string()])
        .args(["--inspector-port", &free_port().to_string()])
        .arg("--persist-to")
        .arg(persist)
        .args(["--show-interactive-dev-session=false", "--test-scheduled"])
        // Shorter retry waits than production's, so a push that exhausts its retries reaches
        // the dead-letter queue in about half a minute instead of two.
        .args([
            "--var",
            "SYNC_RETRY_BASE_MS:200",
            "--var",
            "SYNC_FETCH_TIMEOUT_MS:3000",
            // The cron (run by tests through /__scheduled) re-sends entries untouched for 5 s,
            // so a restart's lost messages come back quickly; repeats are harmless.
            "--var",
            "SYNC_RESEND_AFTER_MS:5000",
            // Each cron run polls connections not polled for 5 s (production: 5 minutes), so
            // a sale whose webhook was lost is found within a test's patience.
            "--var",
            "POLL_EVERY_MS:5000",
            // Amazon updates are read back 1 s after they were accepted (production: 2 minutes),
            // by the next cron run.
            "--var",
            "SYNC_VERIFY_AFTER_MS:1000",
            // The benchmark's bare route (one D1 row per request), never set in production.
            "--var",
            "BENCH_ROUTES:1",
            // The deep health check's bearer (production: `wrangler secret put HEALTH_SECRET`).
            "--var",
            HEALTH_SECRET_VAR,
        ])
        .env("CI", "true")
        .env("WRANGLER_SEND_METRICS", "false")
        .env("WRANGLER_SEND_ERROR_REPORTS", "false")
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false");
    if network == Network::Development {
        command.args(["--var", "TALLY_NETWORK:development"]);
    }
    Group::spawn("wrangler dev", command, log.to_path_buf())
}

/// A plain blocking HTTP/1.1 GET that reports whether the status is 200 (startup happens before
/// any async runtime exists).
pub fn answers_200(port: u16, path: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.ends_with(b" 200")
}
