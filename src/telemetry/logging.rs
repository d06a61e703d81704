//! Logging: `RUST_LOG` filters (default `info`), `SYMPHAINY_LOG_FORMAT=json` for JSON lines.
//! Logs go to stderr; stdout carries only the `listening ...` line. With
//! `OTEL_EXPORTER_OTLP_ENDPOINT` set, the spans (each request's, each execution's, with their
//! request, session and execution ids) are also sent to that OpenTelemetry collector over OTLP
//! (HTTP with JSON bodies, the one protocol built in; the standard `OTEL_*` variables apply), batched on a thread of their own; `flush` sends what is left at
//! exit.

use std::io::IsTerminal;
use std::sync::OnceLock;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

static TRACES: OnceLock<SdkTracerProvider> = OnceLock::new();

/// The OTLP trace pipeline, when `OTEL_EXPORTER_OTLP_ENDPOINT` names a collector.
fn otlp() -> Option<SdkTracerProvider> {
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok()?;
    if endpoint.trim().is_empty() {
        return None;
    }
    let exporter = match opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
    {
        Ok(e) => e,
        Err(e) => {
            eprintln!("OTLP traces are off: the exporter cannot be built: {e}");
            return None;
        }
    };
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name("symphainy")
        .build();
    Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build(),
    )
}

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,ractor=warn"));
    let json = std::env::var("SYMPHAINY_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let fmt = if json {
        fmt.json().boxed()
    } else {
        fmt.boxed()
    };
    let traces = otlp().map(|provider| {
        let tracer = provider.tracer("symphainy");
        let _ = TRACES.set(provider);
        tracing_opentelemetry::layer().with_tracer(tracer)
    });
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(traces)
        .try_init();
}

/// Sends the spans not exported yet (at exit).
pub fn flush() {
    if let Some(provider) = TRACES.get() {
        let _ = provider.shutdown();
    }
}

/// Makes `span` a child of the W3C trace context the request's `traceparent` header names, if
/// any (no effect when traces are not exported).
pub fn continue_trace(span: &tracing::Span, headers: &axum::http::HeaderMap) {
    use opentelemetry::propagation::TextMapPropagator;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    if TRACES.get().is_none() || !headers.contains_key("traceparent") {
        return;
    }
    struct Headers<'a>(&'a axum::http::HeaderMap);
    impl opentelemetry::propagation::Extractor for Headers<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).and_then(|v| v.to_str().ok())
        }
        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(|k| k.as_str()).collect()
        }
    }
    let parent =
        opentelemetry_sdk::propagation::TraceContextPropagator::new().extract(&Headers(headers));
    let _ = span.set_parent(parent);
}

/// The current span's W3C trace context, as a `traceparent` value, when traces are exported.
pub fn current_traceparent() -> Option<String> {
    use opentelemetry::propagation::TextMapPropagator;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    TRACES.get()?;
    let mut carrier = std::collections::HashMap::new();
    opentelemetry_sdk::propagation::TraceContextPropagator::new()
        .inject_context(&tracing::Span::current().context(), &mut carrier);
    carrier.remove("traceparent")
}

/// A span continuing the trace `traceparent` names (an execution's run, in its submitter's
/// trace); the span as it is when traces are not exported or there is no such value.
pub fn span_in_trace(span: tracing::Span, traceparent: Option<&str>) -> tracing::Span {
    use opentelemetry::propagation::TextMapPropagator;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    if let (Some(_), Some(tp)) = (TRACES.get(), traceparent) {
        let carrier: std::collections::HashMap<String, String> =
            [("traceparent".to_string(), tp.to_string())].into();
        let parent =
            opentelemetry_sdk::propagation::TraceContextPropagator::new().extract(&carrier);
        let _ = span.set_parent(parent);
    }
    span
}
