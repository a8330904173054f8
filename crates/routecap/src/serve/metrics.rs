//! Prometheus metrics of one `serve` process, in the text exposition format.
//!
//! Each process has its own registry (no globals), so several services in
//! one test process do not mix their counts.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// The service's counters, gauges and histograms.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    /// Requests answered, by endpoint and status code.
    pub requests: IntCounterVec,
    /// Time to answer, by endpoint.
    pub latency: HistogramVec,
    /// Decisions: `route`, `connect`/`reserve` × `admitted`/`refused`.
    pub decisions: IntCounterVec,
    /// Refused connects and reservations by reason code.
    pub refusals: IntCounterVec,
    /// Live calls and reservations over all targets, as of the last scrape.
    pub live: IntGaugeVec,
    /// Backend failures (unreachable, timed out) by endpoint.
    pub backend_errors: IntCounterVec,
    /// The version of the config in force, shared by every process of
    /// the state (set at each scrape and change).
    pub config_version: IntGauge,
    /// Requests by the role of their token (`anonymous`: none, or none
    /// needed), refused ones included.
    pub by_role: IntCounterVec,
    /// Times the shared state was found emptied and seeded again.
    pub reseeds: IntCounter,
}

/// Latency buckets from 100 µs to 5 s: memory answers in microseconds,
/// Redis in a millisecond or so, and the timeout sits at the top.
const BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("routecap_http_requests_total", "HTTP requests answered"),
            &["endpoint", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "routecap_http_request_duration_seconds",
                "Time to answer an HTTP request",
            )
            .buckets(BUCKETS.to_vec()),
            &["endpoint"],
        )
        .expect("valid metric");
        let decisions = IntCounterVec::new(
            Opts::new(
                "routecap_decisions_total",
                "Routing and lifecycle decisions",
            ),
            &["decision", "outcome"],
        )
        .expect("valid metric");
        let refusals = IntCounterVec::new(
            Opts::new(
                "routecap_refusals_total",
                "Refused connects and reservations by reason code",
            ),
            &["code"],
        )
        .expect("valid metric");
        let live = IntGaugeVec::new(
            Opts::new(
                "routecap_live_calls",
                "Live connected calls and reservations over all targets (as of the last scrape)",
            ),
            &["phase"],
        )
        .expect("valid metric");
        let backend_errors = IntCounterVec::new(
            Opts::new(
                "routecap_backend_errors_total",
                "State backend failures (unreachable, timed out)",
            ),
            &["endpoint"],
        )
        .expect("valid metric");
        let config_version = IntGauge::new(
            "routecap_config_version",
            "Version of the config in force (the same in every process of a shared state)",
        )
        .expect("valid metric");
        let by_role = IntCounterVec::new(
            Opts::new(
                "routecap_http_requests_by_role_total",
                "HTTP requests by the role of their token (anonymous: no token)",
            ),
            &["role"],
        )
        .expect("valid metric");
        let reseeds = IntCounter::new(
            "routecap_state_reseeds_total",
            "Times the shared state was found emptied (its server restarted without its data) and seeded again from the running config",
        )
        .expect("valid metric");
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(decisions.clone()),
            Box::new(refusals.clone()),
            Box::new(live.clone()),
            Box::new(backend_errors.clone()),
            Box::new(config_version.clone()),
            Box::new(by_role.clone()),
            Box::new(reseeds.clone()),
        ] {
            registry.register(c).expect("metric names are distinct");
        }
        Metrics {
            registry,
            requests,
            latency,
            decisions,
            refusals,
            live,
            backend_errors,
            config_version,
            by_role,
            reseeds,
        }
    }

    /// Everything in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        // encoding into a Vec cannot fail for well-formed metrics
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
