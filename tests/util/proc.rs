//! The real `brokerwatch` binary as a child process: every line it prints on stdout and stderr
//! is kept (and can be waited for), and signals go to its PID.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `brokerwatch` with its output captured.
pub struct Daemon {
    child: Child,
    /// (stream, line) in arrival order per stream; "out" or "err".
    lines: Arc<Mutex<Vec<(&'static str, String)>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

/// The binary with a clean environment: no config, state or session bus of the machine's, and
/// an English locale (a config without `language:` then speaks English whatever the machine's).
pub fn command(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_brokerwatch"));
    c.env("LC_ALL", "C.UTF-8")
        .env_remove("BROKERWATCH_CONFIG")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("NOTIFY_SOCKET")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_RUNTIME_DIR", home.join("run"));
    c
}

impl Daemon {
    /// Spawns `cmd` with piped stdout and stderr.
    pub fn spawn(mut cmd: Command) -> Daemon {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn brokerwatch");
        let lines: Arc<Mutex<Vec<(&'static str, String)>>> = Arc::default();
        let out = child.stdout.take().expect("stdout");
        let err = child.stderr.take().expect("stderr");
        let readers = vec![
            keep_lines(out, "out", lines.clone()),
            keep_lines(err, "err", lines.clone()),
        ];
        Daemon {
            child,
            lines,
            readers,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Every line so far.
    pub fn lines(&self) -> Vec<(&'static str, String)> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Everything printed so far, stdout and stderr, one line each.
    pub fn output(&self) -> String {
        self.lines()
            .iter()
            .map(|(_, l)| l.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Waits for a line matching `pred` (None after `within`).
    pub fn wait_for_line(&self, within: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + within;
        loop {
            if let Some((_, l)) = self.lines().into_iter().find(|(_, l)| pred(l)) {
                return Some(l);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `sig` (e.g. 1 = SIGHUP, 9 = SIGKILL, 15 = SIGTERM).
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid, which we have not yet reaped.
        let rc = unsafe { kill(self.child.id() as i32, sig) };
        assert_eq!(rc, 0, "kill({sig}) failed");
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits for the exit (at most `within`, then SIGKILL) and for the output to be read.
    pub fn wait(mut self, within: Duration) -> (ExitStatus, String) {
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                break s;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                break self.child.wait().expect("wait");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        (status, self.output())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn keep_lines(
    from: impl Read + Send + 'static,
    stream: &'static str,
    into: Arc<Mutex<Vec<(&'static str, String)>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines().map_while(Result::ok) {
            if let Ok(mut l) = into.lock() {
                l.push((stream, line));
            }
        }
    })
}

unsafe extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}
