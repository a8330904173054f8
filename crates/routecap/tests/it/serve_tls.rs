//! HTTPS (`--tls-cert`/`--tls-key`): a self-signed certificate made by
//! `rcgen`, the running binary, and a real client (`curl --cacert`).

use std::process::Command;

use super::cli_support::run;
use super::serve_support::*;

/// curl, or `None` after a loud SKIPPING line (a failure under CI).
fn curl(test: &str) -> Option<&'static str> {
    if Command::new("curl").arg("--version").output().is_ok() {
        return Some("curl");
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test}: curl is missing under CI (scripts/ci-setup installs it)"
    );
    eprintln!(
        "!!!!!!!! SKIPPING {test}: curl is not installed (scripts/apt-install curl) !!!!!!!!"
    );
    None
}

#[test]
fn https_answers_a_client_that_trusts_the_certificate() {
    let Some(curl) = curl("https_answers_a_client_that_trusts_the_certificate") else {
        return;
    };
    let config = config_file(CONFIG);
    let dir = config.parent().unwrap();
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let server = ServeProcess::start(
        config.to_str().unwrap(),
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let port = server
        .base
        .strip_prefix("https://127.0.0.1:")
        .unwrap_or_else(|| panic!("not an https address: {}", server.base));
    let resolve = format!("localhost:{port}:127.0.0.1");
    let https = |path: &str, extra: &[&str]| {
        let out = Command::new(curl)
            .args([
                "-sS",
                "--cacert",
                cert.to_str().unwrap(),
                "--resolve",
                &resolve,
            ])
            .args(["-w", "\n%{http_code}"])
            .args(extra)
            .arg(format!("https://localhost:{port}{path}"))
            .output()
            .expect("curl runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = https("/healthz", &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.ends_with("\n200") && out.contains("\"status\":\"ok\""),
        "{out}"
    );
    let body = format!(r#"{{"call": "t1", "target": "c", "at": "{AT}"}}"#);
    let (code, out, err) = https(
        "/v1/connect",
        &["-H", "content-type: application/json", "--data", &body],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "{\"ok\":true}\n200");
    // plain HTTP to the HTTPS port gets no answer; a client that does not
    // trust the certificate refuses it
    let out = Command::new(curl)
        .args(["-sS", "--resolve", &resolve])
        .arg(format!("https://localhost:{port}/healthz"))
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "an untrusted certificate was accepted"
    );
    let mut plain = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    plain
        .set_read_timeout(Some(std::time::Duration::from_secs(15)))
        .unwrap();
    std::io::Write::write_all(&mut plain, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    let _ = std::io::Read::read_to_end(&mut plain, &mut answer);
    assert!(
        !answer.starts_with(b"HTTP/1.1 200"),
        "plain HTTP was answered"
    );
}

#[test]
fn bad_certificate_files_stop_the_start_naming_the_file() {
    let config = config_file(CONFIG);
    let dir = config.parent().unwrap();
    let not_pem = dir.join("not.pem");
    std::fs::write(&not_pem, "hello\n").unwrap();
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = dir.join("cert.pem");
    std::fs::write(&cert, made.cert.pem()).unwrap();
    let path = config.to_str().unwrap();
    let (c, n) = (cert.to_str().unwrap(), not_pem.to_str().unwrap());
    for (args, want) in [
        (vec!["--tls-cert", n, "--tls-key", c], "--tls-cert"),
        (vec!["--tls-cert", c, "--tls-key", n], "--tls-key"),
        (
            vec!["--tls-cert", c, "--tls-key", "/nonexistent/key.pem"],
            "--tls-key",
        ),
    ] {
        let mut all = vec!["serve", path];
        all.extend(args);
        let (code, _, err) = run(&all, b"");
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(want), "{err}");
    }
    let (code, _, err) = run(&["serve", path, "--tls-cert", c], b"");
    assert_eq!(code, 2, "{err}");
}
