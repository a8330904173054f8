//! Process signals: SIGTERM and SIGINT stop accepting, finish the requests
//! in flight and exit 0; SIGHUP re-reads the config file (counters kept)
//! and the token file.

use std::sync::Arc;

use super::Service;

/// Resolves on the first SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM: finishing requests in flight"),
                    _ = int.recv() => tracing::info!("SIGINT: finishing requests in flight"),
                }
            }
            _ => {
                tracing::warn!("signal handlers could not be installed; stop with SIGKILL");
                std::future::pending::<()>().await
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Re-read the config file and switch to it (logged as any config
/// change, by `SIGHUP`). The new version, for the log.
pub async fn reload(service: &Service) -> Result<u64, String> {
    let Some(path) = &service.config_file else {
        return Err("the config came from standard input: nothing to re-read".into());
    };
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: cannot be read: {e}"))?;
    let doc: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("{path}: not valid JSON: {e}"))?;
    // a file emptied by accident (an editor's half-written save) must not
    // drop every target: emptying is for `PUT /v1/config?allow_empty=true`
    routecap_core::formats::source::refuse_empty(
        &doc,
        path,
        service.format,
        "use PUT /v1/config?allow_empty=true",
    )
    .map_err(|e| e.to_string())?;
    let _one_at_a_time = service.config_changes.lock().await;
    let at = super::extract::now();
    let replace = service
        .backend
        .replace_config_if(&doc, path, service.format, at, None);
    let change = service.state(replace).await.map_err(|e| e.to_string())?;
    super::config_edit::changed(service, "SIGHUP", path, &change);
    Ok(change.after.version)
}

/// Re-read the token file, when there is one (the tokens in force stay
/// on error). How many tokens there are now.
pub fn reload_tokens(service: &Service) -> Option<Result<usize, String>> {
    service.auth.as_ref().map(|a| a.reload())
}

/// Reload on every SIGHUP, for as long as the process runs.
pub fn reload_on_hangup(service: Arc<Service>) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            tracing::warn!("SIGHUP handler could not be installed; reload with PUT /v1/config");
            return;
        };
        while hup.recv().await.is_some() {
            match reload_tokens(&service) {
                None => {}
                Some(Ok(n)) => tracing::info!(tokens = n, "SIGHUP: token file reloaded"),
                Some(Err(e)) => tracing::error!(error = %e, "SIGHUP: tokens kept as they were"),
            }
            match reload(&service).await {
                Ok(v) => tracing::info!(config_version = v, "SIGHUP: config reloaded"),
                Err(e) => tracing::error!(error = %e, "SIGHUP: config kept as it was"),
            }
        }
    });
    #[cfg(not(unix))]
    let _ = service;
}
