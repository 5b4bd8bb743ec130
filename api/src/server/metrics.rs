//! Prometheus metrics (text exposition format 0.0.4), kept by hand: a few counters and
//! histograms behind one mutex each (updates are a handful of additions).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Histogram bucket bounds in seconds.
const QUERY_BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
const PROCESSING_BUCKETS: &[f64] = &[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];

#[derive(Debug, Clone)]
struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram { bounds, counts: vec![0; bounds.len()], sum: 0.0, count: 0 }
    }

    fn observe(&mut self, v: f64) {
        if let Some(i) = self.bounds.iter().position(|b| v <= *b) {
            self.counts[i] += 1;
        }
        self.sum += v;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cum = 0;
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            cum += c;
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {cum}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", self.count);
        let braces = if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[derive(Debug)]
pub struct Metrics {
    /// (route, method, status) → latency histogram.
    requests: Mutex<BTreeMap<(String, String, u16), Histogram>>,
    /// uitkomst → count.
    deliveries: Mutex<BTreeMap<String, u64>>,
    processing: Mutex<Histogram>,
    uploads_refused: Mutex<BTreeMap<u16, u64>>,
    pub queue_depth: AtomicU64,
    pub processing_errors: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: Mutex::default(),
            deliveries: Mutex::default(),
            processing: Mutex::new(Histogram::new(PROCESSING_BUCKETS)),
            uploads_refused: Mutex::default(),
            queue_depth: AtomicU64::new(0),
            processing_errors: AtomicU64::new(0),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Metrics {
    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        lock(&self.requests)
            .entry((route.to_string(), method.to_string(), status))
            .or_insert_with(|| Histogram::new(QUERY_BUCKETS))
            .observe(seconds);
    }

    pub fn delivery(&self, uitkomst: &str, seconds: f64) {
        *lock(&self.deliveries).entry(uitkomst.to_string()).or_default() += 1;
        lock(&self.processing).observe(seconds);
    }

    pub fn upload_refused(&self, status: u16) {
        *lock(&self.uploads_refused).entry(status).or_default() += 1;
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        s.push_str("# HELP regelbank_http_request_duration_seconds Time to answer an HTTP request, by route template, method and status.\n");
        s.push_str("# TYPE regelbank_http_request_duration_seconds histogram\n");
        for ((route, method, status), h) in lock(&self.requests).iter() {
            let labels = format!("route=\"{}\",method=\"{}\",status=\"{status}\"", escape(route), escape(method));
            h.render(&mut s, "regelbank_http_request_duration_seconds", &labels);
        }
        s.push_str("# HELP regelbank_deliveries_total Deliveries processed from the queue, by uitkomst.\n");
        s.push_str("# TYPE regelbank_deliveries_total counter\n");
        for (u, n) in lock(&self.deliveries).iter() {
            let _ = writeln!(s, "regelbank_deliveries_total{{uitkomst=\"{}\"}} {n}", escape(u));
        }
        s.push_str("# HELP regelbank_delivery_processing_seconds Time from the start of a processing batch to a delivery's final result.\n");
        s.push_str("# TYPE regelbank_delivery_processing_seconds histogram\n");
        lock(&self.processing).render(&mut s, "regelbank_delivery_processing_seconds", "");
        s.push_str("# HELP regelbank_uploads_refused_total Uploads refused before acknowledgement, by HTTP status.\n");
        s.push_str("# TYPE regelbank_uploads_refused_total counter\n");
        for (st, n) in lock(&self.uploads_refused).iter() {
            let _ = writeln!(s, "regelbank_uploads_refused_total{{status=\"{st}\"}} {n}");
        }
        s.push_str("# HELP regelbank_queue_pending Acknowledged deliveries not yet processed.\n");
        s.push_str("# TYPE regelbank_queue_pending gauge\n");
        let _ = writeln!(s, "regelbank_queue_pending {}", self.queue_depth.load(Ordering::Relaxed));
        s.push_str("# HELP regelbank_processing_errors_total Processing batches that failed with a machine error (retried).\n");
        s.push_str("# TYPE regelbank_processing_errors_total counter\n");
        let _ = writeln!(s, "regelbank_processing_errors_total {}", self.processing_errors.load(Ordering::Relaxed));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.request("/api/v1/expressies/{*expressie}", "GET", 200, 0.0007);
        m.request("/api/v1/expressies/{*expressie}", "GET", 200, 0.003);
        m.delivery("gepubliceerd", 0.2);
        let t = m.render();
        assert!(t.contains(r#"regelbank_http_request_duration_seconds_bucket{route="/api/v1/expressies/{*expressie}",method="GET",status="200",le="0.001"} 1"#), "{t}");
        assert!(t.contains(r#"le="0.005"} 2"#), "{t}");
        assert!(t.contains(r#"regelbank_deliveries_total{uitkomst="gepubliceerd"} 1"#), "{t}");
        assert!(t.contains("regelbank_delivery_processing_seconds_count 1"), "{t}");
    }
}
