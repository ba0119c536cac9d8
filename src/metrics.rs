//! Prometheus metrics, served at `/metrics`: requests by route and status, latency,
//! transitions by workflow and event, mail and timers. One registry per process.

use std::sync::LazyLock;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub latency: HistogramVec,
    pub transitions: IntCounterVec,
    pub mail: IntCounterVec,
    pub mail_waiting: IntGauge,
    pub mail_oldest_age: IntGauge,
    pub mail_dead: IntGauge,
    pub timers: IntCounterVec,
}

fn build() -> Result<Metrics, prometheus::Error> {
    let registry = Registry::new();
    let requests = IntCounterVec::new(
        Opts::new(
            "rongcuo_http_requests_total",
            "HTTP requests by route, method and status",
        ),
        &["route", "method", "status"],
    )?;
    let latency = HistogramVec::new(
        HistogramOpts::new(
            "rongcuo_http_request_duration_seconds",
            "HTTP request latency by route",
        )
        .buckets(vec![
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
        ]),
        &["route", "method"],
    )?;
    let transitions = IntCounterVec::new(
        Opts::new(
            "rongcuo_transitions_total",
            "Transitions applied, by workflow and event",
        ),
        &["workflow", "event"],
    )?;
    let mail = IntCounterVec::new(
        Opts::new("rongcuo_mail_total", "Mail delivery attempts by result"),
        &["result"],
    )?;
    let mail_waiting = IntGauge::new("rongcuo_mail_waiting", "Mail not yet delivered")?;
    let mail_oldest_age = IntGauge::new(
        "rongcuo_mail_oldest_age_seconds",
        "Age of the oldest mail not yet delivered",
    )?;
    let mail_dead = IntGauge::new("rongcuo_mail_dead", "Mail given up on")?;
    let timers = IntCounterVec::new(
        Opts::new("rongcuo_timers_total", "Timers handled, by kind and result"),
        &["kind", "result"],
    )?;
    registry.register(Box::new(requests.clone()))?;
    registry.register(Box::new(latency.clone()))?;
    registry.register(Box::new(transitions.clone()))?;
    registry.register(Box::new(mail.clone()))?;
    registry.register(Box::new(mail_waiting.clone()))?;
    registry.register(Box::new(mail_oldest_age.clone()))?;
    registry.register(Box::new(mail_dead.clone()))?;
    registry.register(Box::new(timers.clone()))?;
    Ok(Metrics {
        registry,
        requests,
        latency,
        transitions,
        mail,
        mail_waiting,
        mail_oldest_age,
        mail_dead,
        timers,
    })
}

static METRICS: LazyLock<Option<Metrics>> = LazyLock::new(|| match build() {
    Ok(m) => Some(m),
    Err(e) => {
        tracing::error!(error = %e, "metrics unavailable");
        None
    }
});

/// The process's metrics (None only if the registry could not be built).
pub fn get() -> Option<&'static Metrics> {
    METRICS.as_ref()
}

pub fn transition(workflow: &str, event: &str) {
    if let Some(m) = get() {
        m.transitions.with_label_values(&[workflow, event]).inc();
    }
}

pub fn mail(result: &str) {
    if let Some(m) = get() {
        m.mail.with_label_values(&[result]).inc();
    }
}

pub fn timer(kind: &str, result: &str) {
    if let Some(m) = get() {
        m.timers.with_label_values(&[kind, result]).inc();
    }
}

/// The text exposition format.
pub fn render() -> String {
    let Some(m) = get() else { return String::new() };
    let mut buf = Vec::new();
    if TextEncoder::new()
        .encode(&m.registry.gather(), &mut buf)
        .is_err()
    {
        return String::new();
    }
    String::from_utf8(buf).unwrap_or_default()
}
