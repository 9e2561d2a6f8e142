//! The real desktop app driven through tauri-driver and WebKitWebDriver, shared by the
//! end-to-end tests and the app start benchmark.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::workspace_root;

/// The debug app for the tests, the release app for the benchmark (built optimised).
pub fn app_binary() -> PathBuf {
    let release = !cfg!(debug_assertions);
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace_root().join("target"));
    let p = target.join(if release { "release" } else { "debug" }).join("mijn-cjg");
    let how = if release { "cargo build --release -p mijn-cjg" } else { "scripts/test does" };
    assert!(p.exists(), "build the app first ({how}): {} is missing", p.display());
    p
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    pub fn start(data_dir: &Path, server_url: &str) -> Self {
        Self::start_with(data_dir, server_url, &[])
    }

    /// With more `CJG_*` settings for the app.
    pub fn start_with(data_dir: &Path, server_url: &str, env: &[(&str, &str)]) -> Self {
        assert!(
            std::env::var_os("DISPLAY").is_some(),
            "no DISPLAY: run the tests under xvfb-run (scripts/test does)"
        );
        let port = free_port();
        let native = free_port();
        let tauri_driver = std::env::var("TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into());
        let child = Command::new(tauri_driver)
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .env("CJG_APP_DATA_DIR", data_dir)
            .env("CJG_SERVER_URL", server_url)
            .env("CJG_EXPORT_DIR", data_dir.join("exports"))
            // No quiet sync behind the test's back: every sync here is one the test asked for.
            .env("CJG_SYNC_MINUTES", "0")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tauri-driver is installed (cargo install tauri-driver)");
        Self { child, port }
    }

    pub async fn session(&self) -> Client {
        // reqwest and fantoccini both bring rustls; name the provider once for the process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let caps = json!({"browserName": "wry", "tauri:options": {"application": app_binary()}});
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let attempt = ClientBuilder::rustls()
                .expect("tls")
                .capabilities(caps.as_object().unwrap().clone())
                .connect(&format!("http://127.0.0.1:{}", self.port))
                .await;
            match attempt {
                Ok(c) => return c,
                Err(e) if Instant::now() > deadline => panic!("no WebDriver session: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(300)).await,
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn wait_for(c: &Client, css: &str) -> fantoccini::elements::Element {
    wait_for_locator(c, Locator::Css(css), css).await
}

/// Waits for an element found by XPath (a list item by its text, say). A list shows its
/// container before its items arrive, so waiting for the container alone is not enough.
pub async fn wait_for_xpath(c: &Client, xpath: &str) -> fantoccini::elements::Element {
    wait_for_locator(c, Locator::XPath(xpath), xpath).await
}

async fn wait_for_locator(c: &Client, at: Locator<'_>, what: &str) -> fantoccini::elements::Element {
    c.wait().at_most(Duration::from_secs(60)).for_element(at).await.unwrap_or_else(|e| panic!("{what}: {e}"))
}

pub async fn entry_titles(c: &Client, expected: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let found = c.find_all(Locator::Css("button.entry .title")).await.unwrap();
        if found.len() == expected || Instant::now() > deadline {
            let mut out = Vec::new();
            for e in found {
                out.push(e.text().await.unwrap());
            }
            return out;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Saves a screenshot of the screen as it is now, and checks it with axe-core. With
/// `UPDATE_SCREENSHOTS=1` it also goes to `docs/screenshots/`, the set the README shows.
pub async fn shot(c: &Client, name: &str) {
    let dir = workspace_root().join("target/e2e-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    // The element a test waited for is in the DOM before WebKit has painted it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    if let Ok(png) = c.screenshot().await {
        std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
        if std::env::var("UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
            let docs = workspace_root().join("docs/screenshots");
            std::fs::create_dir_all(&docs).unwrap();
            std::fs::write(docs.join(format!("{name}.png")), png).unwrap();
        }
    }
    let found = axe(c).await;
    if !found.is_empty() {
        VIOLATIONS.lock().unwrap().extend(found.into_iter().map(|v| format!("{name}: {v}")));
    }
}

static VIOLATIONS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The WCAG 2.2 A and AA rules of axe-core, run on the page as it is now. One line per rule
/// broken: its id, what it asks, and where.
pub async fn axe(c: &Client) -> Vec<String> {
    static SOURCE: OnceLock<String> = OnceLock::new();
    let source = SOURCE.get_or_init(|| {
        let path = workspace_root().join("ui/node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (npm ci in ui/ installs axe-core)", path.display()))
    });
    let loaded = c.execute("return typeof window.axe === 'object';", vec![]).await.unwrap();
    if loaded.as_bool() != Some(true) {
        c.execute(source, vec![]).await.unwrap();
    }
    let run = r#"
        const done = arguments[arguments.length - 1];
        window.axe.run(document, {
            runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
            resultTypes: ['violations'],
        }).then((r) => done({ passes: r.passes.length, violations: r.violations.map((v) =>
            `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`) }))
          .catch((e) => done({ passes: 0, violations: ['axe failed: ' + e] }));
    "#;
    let out = c.execute_async(run, vec![]).await.unwrap();
    // A run that checked nothing would pass every screen: it must have passed some rules.
    assert!(out["passes"].as_u64().unwrap_or(0) > 0, "axe-core did not run: {out}");
    out["violations"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Proves the check can fail: a button without a name, put on the page for a moment, must be
/// reported.
pub async fn axe_catches_a_nameless_button(c: &Client) {
    c.execute(
        "const b = document.createElement('button'); b.id = 'axe-probe'; document.body.appendChild(b);",
        vec![],
    )
    .await
    .unwrap();
    let found = axe(c).await;
    c.execute("document.getElementById('axe-probe').remove();", vec![]).await.unwrap();
    assert!(found.iter().any(|v| v.starts_with("button-name")), "the probe was not reported: {found:?}");
}

/// Fails with every accessibility violation the screenshots of this test met.
pub fn assert_accessible() {
    let v = VIOLATIONS.lock().unwrap();
    assert!(v.is_empty(), "axe-core found WCAG A/AA violations:\n{}", v.join("\n"));
}

/// Clicks a control below the fold. WebKitWebDriver's own scroll-then-click can miss a radio
/// button lower on the page (the click lands where the element was), so scroll it to the
/// middle first and check that the click took. Under load (two windows at once on two cores)
/// the page can still move while the click goes out, so a click that missed is tried again.
pub async fn click_in_view(c: &Client, css: &str) {
    let el = wait_for(c, css).await;
    let arg = serde_json::to_value(&el).unwrap();
    for _ in 0..5 {
        c.execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg.clone()]).await.unwrap();
        el.click().await.unwrap();
        if el.prop("checked").await.unwrap().as_deref() == Some("true") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    panic!("{css} was not chosen");
}

/// Waits until the element's text contains `text`.
pub async fn wait_text(c: &Client, css: &str, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await {
            if e.text().await.is_ok_and(|t| t.contains(text)) {
                return;
            }
        }
        assert!(Instant::now() < deadline, "{css} never showed {text:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The Tab key, as WebDriver spells it.
pub const TAB: &str = "\u{E004}";
pub const ENTER: &str = "\u{E007}";
pub const SPACE: &str = " ";

/// Sends keys to whatever has the focus, as a keyboard does.
pub async fn press(c: &Client, keys: &str) {
    c.active_element().await.unwrap().send_keys(keys).await.unwrap();
}

/// Presses Tab until the element matching `css` has the focus (at most `max` times), and
/// checks that the focus is visible there. Fails when the keyboard cannot reach it.
pub async fn tab_to(c: &Client, css: &str, max: usize) {
    let is_there = format!("return document.activeElement && document.activeElement.matches({css:?});");
    for _ in 0..max {
        if c.execute(&is_there, vec![]).await.unwrap().as_bool() == Some(true) {
            // WebKit may paint the outline a frame after the focus moves: look for a moment.
            let mut seen = serde_json::Value::Null;
            for _ in 0..10 {
                seen = c
                    .execute(
                        "const s = getComputedStyle(document.activeElement);
                         return [s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2,
                                 s.outlineStyle + ' ' + s.outlineWidth];",
                        vec![],
                    )
                    .await
                    .unwrap();
                if seen[0].as_bool() == Some(true) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            panic!("{css} has the focus but shows no focus outline: {}", seen[1]);
        }
        press(c, TAB).await;
    }
    panic!("{css} cannot be reached with Tab ({max} presses)");
}

pub async fn type_into(c: &Client, css: &str, text: &str) {
    let el = wait_for(c, css).await;
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

/// A real notification daemon (dunst) on the tests' private D-Bus session and virtual display:
/// what the app shows as an OS notice lands here, and the test reads it back.
pub struct Notices {
    child: Child,
}

impl Notices {
    pub fn start() -> Self {
        assert!(
            std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
            "no D-Bus session: run the tests under scripts/with-keyring (scripts/test does)"
        );
        let child = Command::new("dunst")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dunst is installed (scripts/setup)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while Self::dunstctl(&["is-paused"]).is_none_or(|o| o.trim() != "false") {
            assert!(Instant::now() < deadline, "dunst did not take the notification service");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { child }
    }

    fn dunstctl(args: &[&str]) -> Option<String> {
        let out = Command::new("dunstctl").args(args).stderr(Stdio::null()).output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// (summary, body) of every notice shown so far, oldest first.
    pub fn shown(&self) -> Vec<(String, String)> {
        // History holds notices that were closed; close the ones on screen first.
        Self::dunstctl(&["close-all"]);
        let history = Self::dunstctl(&["history"]).unwrap_or_default();
        let parsed: serde_json::Value = serde_json::from_str(&history).unwrap_or_default();
        let text = |n: &serde_json::Value, key: &str| n[key]["data"].as_str().unwrap_or_default().to_owned();
        let mut notices: Vec<(i64, String, String)> = parsed["data"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|group| group.as_array().cloned().unwrap_or_default())
            .map(|n| (n["id"]["data"].as_i64().unwrap_or_default(), text(&n, "summary"), text(&n, "body")))
            .collect();
        notices.sort_by_key(|n| n.0);
        notices.into_iter().map(|(_, s, b)| (s, b)).collect()
    }
}

impl Drop for Notices {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sets the X input focus of the virtual display: to no window (`false`), as when the person
/// works in another program, or back to the window under the pointer (`true`). Through libX11
/// from Python's ctypes, so no extra tool is needed.
pub fn set_display_focus(on_app: bool) {
    // XSetInputFocus(display, focus, revert_to, time): None = 0, PointerRoot = 1.
    let focus = if on_app { 1 } else { 0 };
    let script = format!(
        "import ctypes; x = ctypes.CDLL('libX11.so.6'); x.XOpenDisplay.restype = ctypes.c_void_p; \
         d = ctypes.c_void_p(x.XOpenDisplay(None)); assert d.value; \
         x.XSetInputFocus(d, {focus}, {focus}, 0); x.XSync(d, 0); x.XCloseDisplay(d)"
    );
    let status = Command::new("python3").args(["-c", &script]).status().expect("python3");
    assert!(status.success(), "could not set the display's focus");
}
