//! Concurrent clients: `clients` tasks take request numbers from a shared counter until
//! `total` are done or the deadline passes, and time each request from send to answer.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What one run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub latency: Latency,
    /// The first failure, to say what went wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

/// Latency percentiles, in milliseconds.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Latency {
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    /// Percentiles of `micros` (sorted in place).
    pub fn of(micros: &mut [u32]) -> Latency {
        micros.sort_unstable();
        let at = |q: f64| -> f64 {
            if micros.is_empty() {
                return 0.0;
            }
            let rank = ((micros.len() as f64 * q).ceil() as usize).clamp(1, micros.len());
            f64::from(micros[rank - 1]) / 1000.0
        };
        Latency {
            p50_ms: at(0.50),
            p95_ms: at(0.95),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

/// Run `request(n)` for n = 0, 1, … from `clients` concurrent tasks, until `total`
/// requests were made or `deadline` has passed.
pub async fn drive<F, Fut>(clients: usize, total: u64, budget: Duration, request: F) -> Outcome
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let request = Arc::new(request);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + budget;
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients.max(1) {
        let (request, next) = (request.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut micros = Vec::new();
            let mut errors = 0u64;
            let mut first_error = None;
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total || Instant::now() >= deadline {
                    break;
                }
                let sent = Instant::now();
                let result = request(n).await;
                micros.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
                if let Err(error) = result {
                    errors += 1;
                    first_error.get_or_insert(error);
                }
            }
            (micros, errors, first_error)
        }));
    }
    let mut micros = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for task in tasks {
        match task.await {
            Ok((mut m, e, f)) => {
                micros.append(&mut m);
                errors += e;
                if first_error.is_none() {
                    first_error = f;
                }
            }
            Err(panic) => {
                errors += 1;
                first_error.get_or_insert(format!("client task failed: {panic}"));
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let requests = micros.len() as u64;
    Outcome {
        requests,
        errors,
        seconds,
        per_second: requests as f64 / seconds.max(f64::EPSILON),
        latency: Latency::of(&mut micros),
        first_error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let mut micros: Vec<u32> = (1..=100).map(|ms| ms * 1000).collect();
        let latency = Latency::of(&mut micros);
        assert_eq!(latency.p50_ms, 50.0);
        assert_eq!(latency.p95_ms, 95.0);
        assert_eq!(latency.p99_ms, 99.0);
        assert_eq!(latency.max_ms, 100.0);
        assert_eq!(Latency::of(&mut []).p99_ms, 0.0);
    }

    #[tokio::test]
    async fn drive_stops_at_the_total_and_counts_failures() {
        let outcome = drive(4, 10, Duration::from_secs(60), |n| async move {
            if n % 5 == 0 {
                Err(format!("request {n} failed"))
            } else {
                Ok(())
            }
        })
        .await;
        assert_eq!(outcome.requests, 10);
        assert_eq!(outcome.errors, 2);
        assert!(outcome.first_error.unwrap().ends_with("failed"));
    }
}
