//! A private desktop: its own session bus (dbus-daemon with our config, so nothing auto-starts),
//! Xvfb on a free display, dunst as the notification server, and `busctl monitor` capturing every
//! Notify call. Everything is killed by PID on drop.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

/// One Notify call as the bus carried it.
#[derive(Debug, Clone, PartialEq)]
pub struct Captured {
    pub app_name: String,
    pub replaces_id: u32,
    pub summary: String,
    pub body: String,
    /// Flat `[key, label, key, label, …]`, as in the protocol.
    pub actions: Vec<String>,
    /// The `urgency` hint (0 low, 1 normal, 2 critical), if sent.
    pub urgency: Option<u8>,
    /// Expiry in ms: -1 server default, 0 never.
    pub timeout: i32,
}

/// The running private desktop.
pub struct DesktopEnv {
    /// The bus address, for `DBUS_SESSION_BUS_ADDRESS`.
    pub address: String,
    bus: Option<Child>,
    children: Vec<Child>,
    captured: Arc<Mutex<Vec<Captured>>>,
    _dir: TempDir,
}

impl DesktopEnv {
    /// Bus, Xvfb, dunst and the monitor.
    pub fn start() -> DesktopEnv {
        let mut env = Self::start_bus_only();
        let display = env.start_xvfb();
        env.start_dunst(&display);
        env
    }

    /// A session bus and the monitor, but no notification server.
    pub fn start_bus_only() -> DesktopEnv {
        for bin in ["dbus-daemon", "busctl", "Xvfb", "dunst"] {
            require(bin);
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let (address, bus) = start_bus(dir.path());
        let mut env = DesktopEnv {
            address,
            bus: Some(bus),
            children: Vec::new(),
            captured: Arc::default(),
            _dir: dir,
        };
        env.start_monitor();
        env
    }

    /// The Notify calls seen so far.
    pub fn notifications(&self) -> Vec<Captured> {
        self.captured.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Waits until `n` Notify calls were seen (or `within` passes).
    pub async fn wait_for_notifications(&self, n: usize, within: Duration) -> Vec<Captured> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.notifications();
            if got.len() >= n || Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Simulates a click on a button: emits `ActionInvoked(id, action)` on the bus.
    ///
    /// NOTE: dunst can only invoke actions through its context menu (dmenu), which Xvfb has no
    /// one to drive; the signal is the same, only its sender differs (clients do not check it).
    pub fn click(&self, notification_id: u32, action: &str) {
        let status = Command::new("busctl")
            .arg(format!("--address={}", self.address))
            .args([
                "emit",
                "/org/freedesktop/Notifications",
                "org.freedesktop.Notifications",
            ])
            .args(["ActionInvoked", "us", &notification_id.to_string(), action])
            .status()
            .expect("busctl emit");
        assert!(status.success(), "busctl emit failed");
    }

    fn start_xvfb(&mut self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        for _ in 0..50 {
            let n = 60 + (std::process::id() + NEXT.fetch_add(1, Ordering::Relaxed) * 7) % 500;
            if Path::new(&format!("/tmp/.X{n}-lock")).exists() {
                continue;
            }
            let mut child = Command::new("Xvfb")
                .args([
                    format!(":{n}").as_str(),
                    "-nolisten",
                    "tcp",
                    "-screen",
                    "0",
                    "800x600x24",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn Xvfb");
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if socket.exists() {
                    self.children.push(child);
                    return format!(":{n}");
                }
                if matches!(child.try_wait(), Ok(Some(_))) {
                    break; // display taken by a parallel test: try another
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("could not start Xvfb on any display");
    }

    fn start_dunst(&mut self, display: &str) {
        let rc = self._dir.path().join("dunstrc");
        // NOTE: without input Xvfb looks idle forever, and dunst keeps idle users' toasts.
        std::fs::write(&rc, "[global]\n    idle_threshold = 0\n").expect("dunstrc");
        let child = Command::new("dunst")
            .arg("-config")
            .arg(&rc)
            .env("DISPLAY", display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn dunst");
        self.children.push(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.name_has_owner("org.freedesktop.Notifications") {
            assert!(
                Instant::now() < deadline,
                "dunst did not take org.freedesktop.Notifications"
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    fn name_has_owner(&self, name: &str) -> bool {
        let out = Command::new("busctl")
            .arg(format!("--address={}", self.address))
            .args([
                "call",
                "org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus",
            ])
            .args(["NameHasOwner", "s", name])
            .output()
            .expect("busctl call");
        String::from_utf8_lossy(&out.stdout).trim() == "b true"
    }

    fn start_monitor(&mut self) {
        let mut child = Command::new("busctl")
            .arg(format!("--address={}", self.address))
            .args(["monitor", "--json=short"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn busctl monitor");
        let stdout = child.stdout.take().expect("monitor stdout");
        let stderr = child.stderr.take().expect("monitor stderr");
        let captured = Arc::clone(&self.captured);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(n) = parse_notify(&line)
                    && let Ok(mut c) = captured.lock()
                {
                    c.push(n);
                }
            }
        });
        // busctl says "Monitoring bus message stream." on stderr once it is attached.
        let mut stderr = BufReader::new(stderr);
        let mut first = String::new();
        let _ = stderr.read_line(&mut first);
        assert!(first.contains("Monitoring"), "busctl monitor: {first}");
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        self.children.push(child);
    }
}

impl Drop for DesktopEnv {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            terminate(child);
        }
        if let Some(bus) = self.bus.as_mut() {
            terminate(bus);
        }
    }
}

/// SIGTERM (Xvfb then removes its lock file and socket), SIGKILL if still there after 2 s.
fn terminate(child: &mut Child) {
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn require(bin: &str) {
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()));
    if !found {
        panic!("{bin} not installed: run scripts/test");
    }
}

/// Starts dbus-daemon with a config of ours; returns its address and process.
///
/// NOTE: `--nofork` rather than `--fork`: a forked daemon is reparented to PID 1, which in this
/// container does not reap, leaving a zombie per test. As our child we kill and reap it.
fn start_bus(dir: &Path) -> (String, Child) {
    let conf = dir.join("bus.conf");
    let socket = dir.join("bus");
    std::fs::write(&conf, bus_config(&socket)).expect("bus.conf");
    let mut child = Command::new("dbus-daemon")
        .arg(format!("--config-file={}", conf.display()))
        .args(["--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn dbus-daemon");
    let stdout = child.stdout.take().expect("dbus-daemon stdout");
    let mut address = String::new();
    // The address is printed once the daemon listens.
    let _ = BufReader::new(stdout).read_line(&mut address);
    let address = address.trim().to_string();
    assert!(
        address.starts_with("unix:"),
        "dbus-daemon printed no address"
    );
    (address, child)
}

fn bus_config(socket: &Path) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
        socket.display()
    )
}

/// A Notify method call from one line of `busctl monitor --json=short`.
fn parse_notify(line: &str) -> Option<Captured> {
    let v: Value = serde_json::from_str(line).ok()?;
    if v["type"] != "method_call" || v["member"] != "Notify" {
        return None;
    }
    let d = v["payload"]["data"].as_array()?;
    let s = |i: usize| d.get(i).and_then(Value::as_str).unwrap_or("").to_string();
    Some(Captured {
        app_name: s(0),
        replaces_id: d
            .get(1)
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
        summary: s(3),
        body: s(4),
        actions: d
            .get(5)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        urgency: d
            .get(6)
            .and_then(|h| h["urgency"]["data"].as_u64())
            .and_then(|u| u8::try_from(u).ok()),
        timeout: d
            .get(7)
            .and_then(Value::as_i64)
            .and_then(|t| i32::try_from(t).ok())
            .unwrap_or(-1),
    })
}

static BUS_ENV: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Takes the process-wide bus lock and points the process at `address`.
///
/// NOTE: notify-rust (zbus) only reads `DBUS_SESSION_BUS_ADDRESS`; every test that talks to a
/// desktop bus holds this lock, so tests running in parallel never see each other's bus.
pub async fn use_bus(address: &str) -> tokio::sync::MutexGuard<'static, ()> {
    let guard = BUS_ENV.lock().await;
    // SAFETY: edition 2024 marks set_var unsafe because C code could read the environment at the
    // same time. Desktop tests are serialised by BUS_ENV, and the other tests in this binary
    // never read the environment from C.
    unsafe { std::env::set_var("DBUS_SESSION_BUS_ADDRESS", address) };
    guard
}
