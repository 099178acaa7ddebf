//! Per-participant rate limits on what connectors ask and post (decisions, receipts): a
//! token bucket per SIREN, refilled at `requests_per_minute` up to `burst`. A participant
//! over its rate gets 429 with `Retry-After`, and nothing is logged — which also keeps a
//! misbehaving connector from filling the log with rejected receipts.
//!
//! Buckets are keyed by the SIREN of an authenticated caller, so there are at most as many
//! as registered participants.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Token buckets, one per participant.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    burst: u32,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// `per_minute` 0 disables the limit.
    pub fn new(per_minute: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            per_minute,
            burst: burst.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Take one request from `key`'s bucket; `Err(seconds)` to wait when it is empty.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let rate = f64::from(self.per_minute) / 60.0;
        let now = Instant::now();
        // A poisoned lock only means another request panicked mid-update: the counts are
        // still usable.
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let (tokens, at) = buckets
            .entry(key.to_owned())
            .or_insert((f64::from(self.burst), now));
        *tokens =
            (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(f64::from(self.burst));
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_waiting() {
        let limiter = RateLimiter::new(60, 3);
        for _ in 0..3 {
            assert_eq!(limiter.check("a"), Ok(()));
        }
        assert_eq!(limiter.check("a"), Err(1));
        assert_eq!(
            limiter.check("b"),
            Ok(()),
            "another participant has its own bucket"
        );
        assert_eq!(RateLimiter::new(0, 1).check("a"), Ok(()));
    }
}
