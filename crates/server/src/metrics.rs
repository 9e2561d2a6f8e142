//! What the server counts for the people who run it, in the Prometheus text format: requests by
//! route and status, refused requests, sync pages, open push connections and time spent in the
//! database. Counts only. A route is its template (`/v1/staff/entries/{entry_id}`), never a path
//! with an id in it, and no label names a person, a dossier or a device.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: u16,
}

/// Seconds a piece of database work took, waiting for its connection included: 0.25 ms to
/// about 8 s in doublings.
pub fn db_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    refused: Family<StatusLabels, Counter>,
    pub sync_pages: Counter,
    push_connections: Gauge,
}

impl Metrics {
    /// `db_seconds` is the histogram the database layer observes into.
    pub fn new(db_seconds: Histogram) -> Self {
        let mut registry = Registry::with_prefix("cjg");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "Requests answered, by method, route template and status",
            requests.clone(),
        );
        let refused = Family::<StatusLabels, Counter>::default();
        registry.register(
            "refused_requests",
            "Requests refused (400, 401, 403, 404, 413, 429), by status",
            refused.clone(),
        );
        let sync_pages = Counter::default();
        registry.register("sync_pages", "Sync pages served to apps", sync_pages.clone());
        let push_connections = Gauge::default();
        registry.register("push_connections", "Push connections open now", push_connections.clone());
        registry.register("db_seconds", "Time of each piece of database work", db_seconds);
        Self { registry, requests, refused, sync_pages, push_connections }
    }

    pub fn observe_request(&self, method: &str, route: &str, status: u16) {
        // Any token is a method to HTTP: an unknown one must not become a series of its own.
        let method = match method {
            "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS" => method,
            _ => "other",
        };
        let labels = RequestLabels { method: method.to_owned(), route: route.to_owned(), status };
        self.requests.get_or_create(&labels).inc();
        if matches!(status, 400 | 401 | 403 | 404 | 413 | 429) {
            self.refused.get_or_create(&StatusLabels { status }).inc();
        }
    }

    /// The text a Prometheus scrape reads; gauges that are a count of something else are read
    /// now.
    pub fn render(&self, open_push_connections: usize) -> String {
        self.push_connections.set(i64::try_from(open_push_connections).unwrap_or(i64::MAX));
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_route_template_and_refusals_apart() {
        let db = db_histogram();
        let m = Metrics::new(db.clone());
        m.observe_request("GET", "/v1/sync", 200);
        m.observe_request("GET", "/v1/sync", 200);
        m.observe_request("GET", "/v1/staff/entries/{entry_id}", 403);
        m.observe_request("BREW-A-NEW-SERIES", "(unmatched)", 400);
        m.sync_pages.inc();
        db.observe(0.002);
        let text = m.render(7);
        assert!(
            text.contains(r#"cjg_http_requests_total{method="GET",route="/v1/sync",status="200"} 2"#),
            "{text}"
        );
        assert!(text.contains(r#"cjg_refused_requests_total{status="403"} 1"#), "{text}");
        assert!(text.contains("cjg_sync_pages_total 1"), "{text}");
        assert!(text.contains("cjg_push_connections 7"), "{text}");
        assert!(text.contains("cjg_db_seconds_count 1"), "{text}");
        assert!(!text.contains("BREW") && text.contains(r#"method="other",route="(unmatched)""#), "{text}");
    }
}
