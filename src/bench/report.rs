//! The figures, beside their targets and as ratios to the bounds and the baseline that
//! frame them; printed as a Markdown table (for the README) and kept as JSON.

use serde::Serialize;

use super::BenchOptions;
use super::bounds::Bounds;
use super::load::{Latency, Outcome};
use super::scenarios::{AuditQuery, FullVerify};

/// One measured line.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_second: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<Latency>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<u64>,
    pub errors: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mib: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_size: Option<u64>,
    /// What the figure is compared with, as "×N of …" or "N % of …".
    pub ratio: String,
    pub target: String,
    /// Whether the target is met (`None`: no target for this line).
    pub met: Option<bool>,
}

impl Run {
    fn blank(name: &str) -> Run {
        Run {
            name: name.to_owned(),
            per_second: None,
            latency: None,
            requests: None,
            errors: 0,
            first_error: None,
            seconds: None,
            mib: None,
            log_size: None,
            ratio: String::new(),
            target: String::new(),
            met: None,
        }
    }

    pub fn load(name: &str, outcome: Outcome) -> Run {
        Run {
            per_second: Some(outcome.per_second),
            latency: Some(outcome.latency),
            requests: Some(outcome.requests),
            errors: outcome.errors,
            first_error: outcome.first_error,
            seconds: Some(outcome.seconds),
            ..Run::blank(name)
        }
    }

    pub fn audit(log_size: u64, audit: AuditQuery) -> Run {
        Run {
            latency: Some(audit.latency),
            requests: Some(audit.rounds),
            log_size: Some(log_size),
            ..Run::blank(&format!(
                "audit query: {} entries of one contract ({} {}) @ {}",
                audit.entries,
                audit.pages,
                if audit.pages == 1 { "page" } else { "pages" },
                super::short(log_size)
            ))
        }
    }

    pub fn verify(verified: FullVerify) -> Run {
        Run {
            per_second: Some(verified.entries_per_second),
            seconds: Some(verified.seconds),
            log_size: Some(verified.entries),
            ..Run::blank(&format!("full verify @ {}", super::short(verified.entries)))
        }
    }

    pub fn memory(log_size: u64, mib: Option<f64>) -> Run {
        Run {
            mib,
            log_size: Some(log_size),
            ..Run::blank(&format!(
                "server peak resident memory @ {}",
                super::short(log_size)
            ))
        }
    }
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub backend: String,
    pub machine: String,
    pub cores: usize,
    pub clients: usize,
    pub seconds_per_scenario: u64,
    pub build: &'static str,
    pub bounds: Bounds,
    pub runs: Vec<Run>,
}

fn rate_of(runs: &[Run], name: &str) -> Option<f64> {
    runs.iter()
        .find(|r| r.name == name)
        .and_then(|r| r.per_second)
}

impl Report {
    pub fn new(
        backend: &str,
        options: &BenchOptions,
        bounds: Bounds,
        mut runs: Vec<Run>,
    ) -> Report {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let verify_capacity = bounds.ed25519_verify_per_second * cores as f64;
        let naive_receipts = rate_of(&runs, "receipts (naive)");
        let largest = runs.iter().filter_map(|r| r.log_size).max().unwrap_or(0);
        for run in &mut runs {
            let rate = run.per_second.unwrap_or(0.0);
            let p99 = run.latency.map_or(f64::MAX, |l| l.p99_ms);
            let p50 = run.latency.map_or(f64::MAX, |l| l.p50_ms);
            let clean = run.errors == 0;
            if run.name == "receipts (grouped)" {
                // Each receipt costs two Ed25519 verifications: its own and the decision's.
                let times_naive = naive_receipts.map_or(0.0, |n| rate / n.max(f64::EPSILON));
                run.ratio = format!(
                    "×{times_naive:.1} naive; {:.1} % of {cores} cores' Ed25519 verifications",
                    100.0 * 2.0 * rate / verify_capacity
                );
                run.target = "≥ 10 000/s, ≥ ×20 naive, p99 < 50 ms".into();
                run.met = Some(clean && rate >= 10_000.0 && times_naive >= 20.0 && p99 < 50.0);
            } else if run.name == "receipts (naive)" {
                run.ratio = format!(
                    "{:.1} % of {cores} cores' Ed25519 verifications",
                    100.0 * 2.0 * rate / verify_capacity
                );
                run.target = "baseline: one entry per transaction".into();
            } else if run.name.starts_with("decisions") {
                run.ratio = format!(
                    "{:.1} % of {cores} cores' Ed25519 operations (one token signature each)",
                    100.0 * rate / verify_capacity
                );
                if run.name == "decisions (grouped)" {
                    run.target = "≥ 20 000/s, p99 < 10 ms".into();
                    run.met = Some(clean && rate >= 20_000.0 && p99 < 10.0);
                } else if run.name == "decisions (one contract)" {
                    run.target =
                        "(one contract's decisions are ordered: each counts the uses before it)"
                            .into();
                }
            } else if run.name.starts_with("inclusion proofs")
                || run.name.starts_with("consistency proofs")
            {
                let size = run.log_size.unwrap_or(largest).max(2) as f64;
                run.ratio = format!(
                    "{:.1} % of one core's SHA-256 node hashes (a verifier's log2 n per proof)",
                    100.0 * rate * size.log2() / bounds.sha256_node_hash_per_second
                );
                if run.name.starts_with("inclusion")
                    && largest >= 10_000_000
                    && run.name.ends_with(&super::short(largest))
                {
                    run.target = "≥ 20 000/s @ 10M".into();
                    run.met = Some(clean && rate >= 20_000.0);
                }
            } else if run.name.starts_with("full verify") {
                // About two hashes per entry: its leaf and its share of the nodes above.
                run.ratio = format!(
                    "{:.1} % of one core's SHA-256 node hashes (two per entry)",
                    100.0 * 2.0 * rate / bounds.sha256_node_hash_per_second
                );
                run.target = "10M in < 30 s (≥ 333 k entries/s)".into();
                run.met = Some(rate >= 10_000_000.0 / 30.0);
            } else if run.name.starts_with("audit query") {
                run.ratio = "each query also logs an audit.read entry first".into();
                run.target = "< 5 ms (p50) for 1 000 entries @ 100k".into();
                run.met = Some(p50 < 5.0);
            } else if run.name.starts_with("server peak") {
                run.target = "< 300 MB @ 10M".into();
                if run.log_size >= Some(10_000_000) {
                    run.met = run.mib.map(|m| m * 1.048_576 < 300.0);
                }
            }
        }
        Report {
            backend: backend.to_owned(),
            machine: machine(),
            cores,
            clients: options.clients,
            seconds_per_scenario: options.seconds,
            build: if cfg!(debug_assertions) {
                "debug (figures meaningless: use --release)"
            } else {
                "release"
            },
            bounds,
            runs,
        }
    }

    /// The report as Markdown: a header and one table.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "**{}** — {} ({} cores), {} clients, {} s per timed scenario, {} build. \
             Bounds on one core: {:.0} Ed25519 verifications/s, {:.0} SHA-256 node hashes/s.\n\n\
             | scenario | rate | p50 | p95 | p99 | ratio | target | met |\n\
             |---|---:|---:|---:|---:|---|---|---|\n",
            self.backend,
            self.machine,
            self.cores,
            self.clients,
            self.seconds_per_scenario,
            self.build,
            self.bounds.ed25519_verify_per_second,
            self.bounds.sha256_node_hash_per_second,
        );
        for run in &self.runs {
            let rate = match (run.per_second, run.seconds, run.mib) {
                (_, _, Some(mib)) => format!("{:.0} MB", mib * 1.048_576),
                (Some(rate), Some(seconds), _) if run.name.starts_with("full verify") => {
                    format!("{seconds:.1} s ({:.0}/s)", rate)
                }
                (Some(rate), _, _) => format!("{rate:.0}/s"),
                _ => String::new(),
            };
            let (p50, p95, p99) = run.latency.map_or_else(
                || (String::new(), String::new(), String::new()),
                |l| {
                    (
                        format!("{:.2} ms", l.p50_ms),
                        format!("{:.2} ms", l.p95_ms),
                        format!("{:.2} ms", l.p99_ms),
                    )
                },
            );
            let errors = if run.errors > 0 {
                format!(
                    " — **{} errors**: {}",
                    run.errors,
                    run.first_error.as_deref().unwrap_or("")
                )
            } else {
                String::new()
            };
            let met = match run.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "",
            };
            out.push_str(&format!(
                "| {}{errors} | {rate} | {p50} | {p95} | {p99} | {} | {} | {met} |\n",
                run.name, run.ratio, run.target
            ));
        }
        out
    }
}

/// The CPU's model name, as the kernel reports it.
fn machine() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned())
}
