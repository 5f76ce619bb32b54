//! Headless Chromium driven over WebDriver: chromedriver from Debian on a free port, one fresh
//! browser profile per session.

use crate::process::{free_port, Group, TempDir};
use crate::worker::answers_200;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A running chromedriver. Dropping it stops chromedriver and every Chromium it started.
pub struct Chromedriver {
    pub url: String,
    group: Group,
    profiles: TempDir,
}

impl Chromedriver {
    /// Starts chromedriver and waits until it answers `/status`.
    pub fn start() -> Self {
        let profiles = TempDir::new("chromium");
        let port = free_port();
        let mut command = Command::new("chromedriver");
        command.args([&format!("--port={port}"), "--allowed-ips=127.0.0.1"]);
        let group = Group::spawn(
            "chromedriver",
            command,
            profiles.path().join("chromedriver.log"),
        );
        let mut driver = Self {
            url: format!("http://127.0.0.1:{port}"),
            group,
            profiles,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !answers_200(port, "/status") {
            driver.group.assert_running();
            assert!(
                Instant::now() < deadline,
                "chromedriver did not start:\n{}",
                driver.group.log_tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        driver
    }

    /// A new headless Chromium session at 1280×900 with its own empty profile.
    pub async fn session(&self) -> Client {
        self.open(serde_json::json!({})).await
    }

    /// A new headless Chromium session as a small phone shows pages: a viewport 360 px wide
    /// (Chromium's device emulation: a headless window cannot be narrower than 500 px).
    pub async fn phone_session(&self) -> Client {
        let phone = serde_json::json!({
            "deviceMetrics": { "width": 360, "height": 780, "pixelRatio": 2.0, "touch": true }
        });
        self.open(serde_json::json!({ "mobileEmulation": phone }))
            .await
    }

    /// Opens a session with its own empty profile and `options` added to Chromium's.
    async fn open(&self, options: serde_json::Value) -> Client {
        // A counter, not a free port number: the OS hands a released port out again, and two
        // sessions sharing a profile share their cookies (one test then starts signed in as
        // another's seller).
        static SESSIONS: AtomicUsize = AtomicUsize::new(0);
        let profile = self.profiles.path().join(format!(
            "profile-{}",
            SESSIONS.fetch_add(1, Ordering::Relaxed)
        ));
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--window-size=1280,900".to_owned(),
            format!("--user-data-dir={}", profile.display()),
        ];
        let mut caps = serde_json::Map::new();
        let mut chrome = serde_json::json!({ "binary": "/usr/bin/chromium", "args": args });
        if let (Some(chrome), Some(extra)) = (chrome.as_object_mut(), options.as_object()) {
            chrome.extend(extra.clone());
        }
        caps.insert("goog:chromeOptions".into(), chrome);
        ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("chromedriver opens a Chromium session")
    }
}

/// Finds an element by `data-testid`, waiting up to `timeout` for it to appear.
pub async fn by_testid(
    client: &Client,
    testid: &str,
    timeout: Duration,
) -> fantoccini::elements::Element {
    let selector = format!("[data-testid=\"{testid}\"]");
    match client
        .wait()
        .at_most(timeout)
        .for_element(Locator::Css(&selector))
        .await
    {
        Ok(element) => element,
        Err(e) => {
            screenshot(client, &format!("failed-{testid}")).await;
            let url = client
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default();
            panic!("no element [data-testid={testid}] within {timeout:?} at {url}: {e} (screenshot in target/screenshots)")
        }
    }
}

/// How long a journey waits for an element of the UI to appear.
pub const UI_WAIT: Duration = Duration::from_secs(20);

/// Clicks the element with `data-testid`, once it appears.
pub async fn click(client: &Client, testid: &str) {
    by_testid(client, testid, UI_WAIT)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking [data-testid={testid}]: {e}"));
}

/// The text of the element with `data-testid`, once it appears.
pub async fn text_of(client: &Client, testid: &str) -> String {
    by_testid(client, testid, UI_WAIT)
        .await
        .text()
        .await
        .unwrap_or_else(|e| panic!("reading [data-testid={testid}]: {e}"))
}

/// Saves a screenshot under `target/screenshots/<name>.png` (kept for the README).
pub async fn screenshot(client: &Client, name: &str) {
    let dir = crate::repo_root().join("target/screenshots");
    let _ = std::fs::create_dir_all(&dir);
    if let Ok(png) = client.screenshot().await {
        let _ = std::fs::write(dir.join(format!("{name}.png")), png);
    }
}

/// Signs in through the sign-in page (where a signed-out visitor lands) and waits for the app.
pub async fn sign_in(client: &Client, email: &str, password: &str) {
    let wait = Duration::from_secs(20);
    by_testid(client, "email", wait)
        .await
        .send_keys(email)
        .await
        .expect("typing the email");
    by_testid(client, "password", wait)
        .await
        .send_keys(password)
        .await
        .expect("typing the password");
    by_testid(client, "auth-submit", wait)
        .await
        .click()
        .await
        .expect("submitting");
    by_testid(client, "account-name", wait).await;
}

/// The rule violations axe-core (pinned in `package-lock.json`) finds on the page as it is
/// now, one line each: rule, impact, help, how many elements and the first few of them.
pub async fn axe_violations(client: &Client) -> Vec<String> {
    let axe = crate::repo_root().join("node_modules/axe-core/axe.min.js");
    let source = std::fs::read_to_string(&axe)
        .unwrap_or_else(|e| panic!("{}: {e} (scripts/setup.sh installs it)", axe.display()));
    client
        .execute(&source, vec![])
        .await
        .expect("axe-core loads into the page");
    let found = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
               .then(r => done(r.violations.map(v =>
                 `${v.id} (${v.impact}): ${v.help}; ${v.nodes.length} element(s): ` +
                 v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))))
               .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .expect("axe-core runs");
    serde_json::from_value(found).expect("a list of violations")
}

/// Every axe-core violation on the page, each prefixed with `screen` (a screenshot of the
/// screen is kept in target/screenshots when there are any).
pub async fn accessibility_report(client: &Client, screen: &str) -> Vec<String> {
    let violations = axe_violations(client).await;
    if !violations.is_empty() {
        screenshot(client, &format!("axe-{screen}")).await;
    }
    violations
        .into_iter()
        .map(|v| format!("{screen}: {v}"))
        .collect()
}

/// Fails with every axe-core violation on the page as it is now.
pub async fn assert_accessible(client: &Client, screen: &str) {
    let found = accessibility_report(client, screen).await;
    assert!(
        found.is_empty(),
        "axe-core finds {} violation(s):\n{}",
        found.len(),
        found.join("\n")
    );
}

/// What a seller could not see or reach on this screen: elements that reach past the window's
/// edges or out of a box that hides its overflow, unless a box that scrolls sideways holds them
/// (a wide table scrolling inside its card is fine), and the page itself being wider than the
/// window. Each line names the element (`data-testid`, else tag and class) and where it ends.
pub async fn cut_off(client: &Client) -> Vec<String> {
    const SCRIPT: &str = r#"
        const width = document.documentElement.clientWidth;
        const name = el => el.dataset.testid ? `[data-testid=${el.dataset.testid}]`
            : el.tagName.toLowerCase() + (el.className && typeof el.className === 'string'
                ? '.' + el.className.trim().split(/\s+/).join('.') : '');
        const scrollsSideways = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
        const found = [];
        if (document.documentElement.scrollWidth > width + 1) {
            found.push(`the page is ${document.documentElement.scrollWidth} px wide in a ${width} px window`);
        }
        for (const el of document.body.querySelectorAll('*')) {
            if (el.closest('.visually-hidden, .skip-link')) continue;
            const box = el.getBoundingClientRect();
            if (box.width === 0 || box.height === 0) continue;
            let outside = box.left < -1 || box.right > width + 1;
            for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
                if (scrollsSideways(up)) { outside = false; break; }
                if (['hidden', 'clip'].includes(getComputedStyle(up).overflowX)) {
                    const frame = up.getBoundingClientRect();
                    if (box.left < frame.left - 1 || box.right > frame.right + 1) {
                        found.push(`${name(el)} is cut off by ${name(up)}`);
                        outside = false;
                        break;
                    }
                }
            }
            if (outside) found.push(`${name(el)} reaches ${Math.round(box.left)}..${Math.round(box.right)} px of a ${width} px window`);
        }
        return found.slice(0, 30);
    "#;
    let found = client
        .execute(SCRIPT, vec![])
        .await
        .expect("the layout check runs");
    serde_json::from_value(found).expect("a list of lines")
}
