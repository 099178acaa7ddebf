//! The service's clock: the time entries, tokens and credentials are stamped and checked with.
//!
//! It is the system clock, always, except while the `demo` command replays last month's
//! activity: the demo sets the clock back so its history spans two billing periods through
//! the same code paths as live traffic, then puts it back (see `demo::seed`). The offset is
//! process-wide; nothing but the demo's first seeding touches it.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

static OFFSET_MS: AtomicI64 = AtomicI64::new(0);

/// Now, as the service sees it.
pub fn now() -> DateTime<Utc> {
    Utc::now() + Duration::milliseconds(OFFSET_MS.load(Ordering::Relaxed))
}

/// Run the service's clock at `at` from here on (moving on with real time).
pub fn set_now(at: DateTime<Utc>) {
    OFFSET_MS.store((at - Utc::now()).num_milliseconds(), Ordering::Relaxed);
}

/// Back to the system clock.
pub fn reset() {
    OFFSET_MS.store(0, Ordering::Relaxed);
}
