//! `routecap serve CONFIG [--listen ADDR] [--state URL --namespace NS]`.

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
        ..ServeOptions::default()
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
    let mut service = Service::new(backend, options);
    service.format = args.input.format;
    service.config_file = (path != "-").then(|| path.clone());
    let service = Arc::new(service);
    serve::signals::reload_on_hangup(service.clone());
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{addr}");
        let _ = out.flush();
    }
    tracing::info!(%addr, state = service.backend.kind(), "listening");
    serve::run(service, listener, serve::signals::shutdown())
        .await
        .map_err(|e| Failure::input(format!("serving on {addr}: {e}")))?;
    tracing::info!("stopped");
    Ok(0)
}
