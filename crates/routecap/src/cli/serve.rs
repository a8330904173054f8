//! `routecap serve CONFIG [--listen ADDR] [--state URL --namespace NS]
//! [--auth FILE [--auth-metrics] | --allow-unauthenticated]
//! [--tls-cert FILE --tls-key FILE]`.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use routecap::serve::{self, ServeOptions, Service};

use super::common::{ConfigArg, StateArgs};
use super::Failure;

/// Arguments of `routecap serve`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    input: ConfigArg,
    /// Address to listen on (`127.0.0.1:0` picks a free port); the bound
    /// address is printed on stdout as `listening on http://ADDR`.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    #[command(flatten)]
    state: StateArgs,
    /// Longest wait for one state-server call, in milliseconds (503 past it).
    #[arg(long, default_value_t = 2000)]
    backend_timeout_ms: u64,
    /// Largest request body in bytes (413 above).
    #[arg(long, default_value_t = 1 << 20)]
    body_limit: usize,
    /// Tokens: one `NAME ROLE TOKEN` per line (ROLE `read`, `decide` or
    /// `admin`; TOKEN may be `sha256:HEX`); `#` starts a comment. SIGHUP
    /// reads it again.
    #[arg(long, value_name = "FILE")]
    auth: Option<String>,
    /// Listen beyond loopback without `--auth` (anyone who reaches the
    /// port may then change the routing).
    #[arg(long)]
    allow_unauthenticated: bool,
    /// `/metrics` needs a `read` token too.
    #[arg(long, requires = "auth")]
    auth_metrics: bool,
    /// Serve HTTPS with this PEM certificate chain (with `--tls-key`).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<String>,
    /// The PEM private key of `--tls-cert`.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<String>,
    /// Longest time a request's header (or TLS handshake) may take to
    /// arrive, in milliseconds; also how long an idle connection stays.
    #[arg(long, default_value_t = 10_000)]
    header_timeout_ms: u64,
    /// Longest pause in a request body, in milliseconds (408 past it).
    #[arg(long, default_value_t = 5_000)]
    body_timeout_ms: u64,
    /// Longest wait for requests in flight on SIGTERM/SIGINT, in
    /// milliseconds; connections still open then are closed.
    #[arg(long, default_value_t = 10_000)]
    shutdown_grace_ms: u64,
    /// Accepted for symmetry with the other commands (the API is JSON).
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<i32, Failure> {
    init_logs();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::input(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(serve_until_signal(args))
}

/// Structured logs on stderr; `ROUTECAP_LOG` sets the filter (default `info`).
fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ROUTECAP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

async fn serve_until_signal(args: Args) -> Result<i32, Failure> {
    let options = ServeOptions {
        body_limit: args.body_limit,
        backend_timeout: Duration::from_millis(args.backend_timeout_ms.max(1)),
        header_timeout: Duration::from_millis(args.header_timeout_ms.max(1)),
        body_timeout: Duration::from_millis(args.body_timeout_ms.max(1)),
        shutdown_grace: Duration::from_millis(args.shutdown_grace_ms),
        ..ServeOptions::default()
    };
    let auth = match &args.auth {
        Some(file) => Some(
            serve::auth::Auth::load(file, args.auth_metrics)
                .map_err(|e| Failure::input(format!("--auth {e}")))?,
        ),
        None => None,
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            Some(serve::tls::server_config(cert, key).map_err(Failure::input)?)
        }
        _ => None,
    };
    let path = &args.input.config;
    let backend = (args.state)
        .open_backend(&args.input, Some(options.backend_timeout))
        .await?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| Failure::input(format!("--listen {}: cannot listen: {e}", args.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Failure::input(format!("--listen {}: {e}", args.listen)))?;
    if !addr.ip().is_loopback() && auth.is_none() && !args.allow_unauthenticated {
        return Err(Failure::input(format!(
            "--listen {}: refusing to listen beyond loopback without --auth FILE \
             (anyone who reaches the port could change the routing); \
             give --auth, or --allow-unauthenticated to do it anyway",
            args.listen
        )));
    }
    let mut service = Service::new(backend, options);
    service.format = args.input.format;
    service.config_file = (path != "-").then(|| path.clone());
    service.auth = auth;
    let service = Arc::new(service);
    serve::signals::reload_on_hangup(service.clone());
    {
        let mut out = std::io::stdout().lock();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let _ = writeln!(out, "listening on {scheme}://{addr}");
        let _ = out.flush();
    }
    tracing::info!(
        %addr,
        state = service.backend.kind(),
        tls = tls.is_some(),
        tokens = service.auth.as_ref().map_or(0, |a| a.tokens().len()),
        "listening"
    );
    let shutdown = serve::signals::shutdown();
    let served = match tls {
        Some(tls) => serve::run_tls(service, listener, tls, shutdown).await,
        None => serve::run(service, listener, shutdown).await,
    };
    served.map_err(|e| Failure::input(format!("serving on {addr}: {e}")))?;
    tracing::info!("stopped");
    Ok(0)
}
