//! Running `routecap serve` for the tests: in this process on an ephemeral
//! loopback port (real HTTP), or as the built binary; and a small blocking
//! HTTP client.
#![allow(dead_code)] // each test file uses its own subset

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use routecap::serve::{self, ServeOptions, Service};
use routecap::state::redis::{new_op_id, RedisOptions, RedisState};
use routecap::state::Backend;
use routecap::Engine;
use serde_json::Value;

/// A config with hours, daily and concurrency caps, a filter and a group:
/// Monday 2026-11-23 15:00Z is 10:00 in New York.
pub const CONFIG: &str = r#"{
  "targets": [
    {"id": "a", "priority": 1, "weight": 3, "time_zone": "America/New_York",
     "hours": [{"day": 1, "open": "09:00", "close": "17:00"}],
     "caps": {"daily": 2, "concurrency": 1}},
    {"id": "b", "priority": 1, "weight": 1, "caps": {"daily": 5},
     "filter": {"any_of": [{"all_of": [{"tag": "geo", "op": "in", "values": ["us-nc"]}]}]}},
    {"id": "c", "priority": 2}
  ],
  "groups": [{"id": "g", "members": ["a", "b"], "caps": {"daily": 3}}]
}"#;

/// Monday 2026-11-23, 10:00 in New York.
pub const AT: &str = "2026-11-23T15:00:00Z";

/// A `serve` running in this process.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// The service, to look at its state directly.
    pub service: Arc<Service>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    /// Over the memory state of `config`.
    pub fn memory(config: &str) -> TestServer {
        Self::memory_with(config, ServeOptions::default())
    }

    /// Over the memory state of `config`, with limits.
    pub fn memory_with(config: &str, options: ServeOptions) -> TestServer {
        let engine = Engine::parse(config.as_bytes(), "test.json", None).expect("test config");
        Self::start(|_| Arc::new(engine), options)
    }

    /// Over a Redis state at `url`, namespace `ns`.
    pub fn redis(config: &str, url: &str, ns: &str, options: ServeOptions) -> TestServer {
        let config = config.as_bytes().to_vec();
        let (url, ns) = (url.to_string(), ns.to_string());
        let timeout = options.backend_timeout;
        Self::start(
            move |rt| {
                let mut o = RedisOptions::new(url);
                o.namespace = ns;
                o.response_timeout = timeout;
                o.connect_timeout = timeout;
                let state = rt
                    .block_on(RedisState::open_document(&config, "test.json", None, o))
                    .expect("redis opens");
                Arc::new(state)
            },
            options,
        )
    }

    fn start(
        state: impl FnOnce(&tokio::runtime::Runtime) -> Arc<dyn Backend>,
        options: ServeOptions,
    ) -> TestServer {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let state = state(&rt);
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let service = Arc::new(Service::new(state, options));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let s = service.clone();
        let thread = std::thread::spawn(move || {
            rt.block_on(serve::run(s, listener, async {
                let _ = rx.await;
            }))
            .expect("serve runs");
        });
        TestServer {
            base: format!("http://{addr}"),
            service,
            stop: Some(tx),
            thread: Some(thread),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A blocking client that returns every status as an answer.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Status and body text of a request.
pub fn send(agent: &ureq::Agent, method: &str, url: &str, body: Option<&str>) -> (u16, String) {
    let req = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json");
    let resp = match body {
        Some(b) => agent.run(req.body(b.to_string()).expect("request")),
        None => agent.run(req.body(()).expect("request")),
    };
    let mut resp = resp.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (status, text)
}

/// Status, headers and body text of a request with extra `headers`.
pub fn send_with(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, ureq::http::HeaderMap, String) {
    let mut req = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = match body {
        Some(b) => agent.run(req.body(b.to_string()).expect("request")),
        None => agent.run(req.body(()).expect("request")),
    };
    let mut resp = resp.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (status, headers, text)
}

/// POST a JSON body; status and parsed answer.
pub fn post(agent: &ureq::Agent, url: &str, body: &Value) -> (u16, Value) {
    let (status, text) = send(agent, "POST", url, Some(&body.to_string()));
    (status, parse(&text))
}

/// GET; status and parsed answer.
pub fn get(agent: &ureq::Agent, url: &str) -> (u16, Value) {
    let (status, text) = send(agent, "GET", url, None);
    (status, parse(&text))
}

/// JSON, or the test fails showing the text.
pub fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The test Redis server's URL, or `None` after a loud SKIPPING line.
pub fn redis_url(test: &str) -> Option<String> {
    match std::env::var("ROUTECAP_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let line = format!(
                "!!!!!!!! SKIPPING {test}: ROUTECAP_TEST_REDIS_URL is unset (run under scripts/with-redis) !!!!!!!!\n"
            );
            let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
            None
        }
    }
}

/// A fresh namespace.
pub fn namespace() -> String {
    format!("serve-test-{}", new_op_id())
}

/// A `routecap serve` process of the built binary.
pub struct ServeProcess {
    /// The child.
    pub child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl ServeProcess {
    /// Start `routecap serve CONFIG --listen 127.0.0.1:0 ARGS...` (ARGS may
    /// give a `--listen` of their own) and wait
    /// for its `listening on` line.
    pub fn start(config_path: &str, args: &[&str]) -> ServeProcess {
        Self::start_logging(config_path, args, "warn", Stdio::inherit())
    }

    /// [`ServeProcess::start`] with the log filter `log` (`ROUTECAP_LOG`)
    /// and the log (stderr) going to `logs`.
    pub fn start_logging(config_path: &str, args: &[&str], log: &str, logs: Stdio) -> ServeProcess {
        let listen: &[&str] = if args.contains(&"--listen") {
            &[]
        } else {
            &["--listen", "127.0.0.1:0"]
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_routecap"))
            .arg("serve")
            .arg(config_path)
            .args(listen)
            .args(args)
            .env("ROUTECAP_LOG", log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(logs)
            .spawn()
            .expect("start routecap serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the listening line");
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("no listening line: {line:?}"))
            .to_string();
        ServeProcess { child, base }
    }

    /// Send a signal by number (`kill -SIG PID`).
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs")
            .success();
        assert!(ok, "kill -{sig} failed");
    }

    /// Wait for exit, at most `limit`; the exit code.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let start = std::time::Instant::now();
        while start.elapsed() < limit {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                return s.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A config file in a fresh temporary directory.
pub fn config_file(text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("routecap-serve-{}", new_op_id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("config.json");
    std::fs::write(&path, text).expect("write config");
    path
}

/// A private redis-server on a free loopback port, killed on drop.
pub struct PrivateRedis {
    child: Child,
    dir: std::path::PathBuf,
    bin: String,
    port: u16,
    /// `redis://127.0.0.1:PORT`
    pub url: String,
}

impl PrivateRedis {
    /// Start one (`ROUTECAP_TEST_REDIS_SERVER` names the binary), or `None`.
    pub fn start() -> Option<PrivateRedis> {
        let bin = std::env::var("ROUTECAP_TEST_REDIS_SERVER").ok()?;
        let dir = std::env::temp_dir().join(format!("routecap-serve-redis-{}", new_op_id()));
        std::fs::create_dir_all(&dir).ok()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = Self::spawn(&bin, port, &dir)?;
        let server = PrivateRedis {
            child,
            dir,
            bin,
            port,
            url: format!("redis://127.0.0.1:{port}"),
        };
        server.wait_ready().then_some(server)
    }

    fn spawn(bin: &str, port: u16, dir: &std::path::Path) -> Option<Child> {
        Command::new(bin)
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--save",
                "",
            ])
            .args(["--dir", dir.to_str()?])
            .stdout(Stdio::null())
            .spawn()
            .ok()
    }

    fn wait_ready(&self) -> bool {
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Kill it and start it again on the same port, empty (a state
    /// server restarted without its data).
    pub fn restart(&mut self) {
        self.kill();
        self.child = Self::spawn(&self.bin, self.port, &self.dir).expect("redis-server restarts");
        assert!(self.wait_ready(), "redis-server did not come back");
    }

    /// Send a signal (`STOP` freezes it: a server that accepts and never
    /// answers; `CONT` thaws it).
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "kill -{sig} redis-server failed");
    }

    /// Kill it (the state server is gone).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
