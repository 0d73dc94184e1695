//! Counting of failed authentication, per client IP.
//!
//! A fixed window per address: after `limit` failures within `window`, a
//! *failed* authentication from that address answers 429 with `Retry-After`
//! instead of 401 until the window ends (see [`crate::auth`]: a valid
//! credential is never refused). Successful requests do not reset the count.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counts failed authentications per client address.
#[derive(Debug)]
pub struct FailedAuthLimiter {
    limit: u32,
    window: Duration,
    entries: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

/// Entries kept before expired ones are pruned.
const PRUNE_AT: usize = 10_000;

impl FailedAuthLimiter {
    /// A limiter allowing `limit` failures per `window`.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds)` when `ip` is blocked, with the seconds until it may retry.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(&ip) {
            Some(&(count, start)) if count >= self.limit && now < start + self.window => {
                let left = (start + self.window).saturating_duration_since(now);
                Err(left.as_secs().max(1))
            }
            _ => Ok(()),
        }
    }

    /// Records one failed authentication from `ip`.
    pub fn record_failure(&self, ip: IpAddr) {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= PRUNE_AT {
            let window = self.window;
            entries.retain(|_, (_, start)| now < *start + window);
        }
        let entry = entries.entry(ip).or_insert((0, now));
        if now >= entry.1 + self.window {
            *entry = (0, now);
        }
        entry.0 = entry.0.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_and_only_that_address() {
        let limiter = FailedAuthLimiter::new(3, Duration::from_secs(60));
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        for _ in 0..3 {
            assert!(limiter.check(a).is_ok());
            limiter.record_failure(a);
        }
        let retry = limiter.check(a).unwrap_err();
        assert!((1..=60).contains(&retry));
        assert!(limiter.check(b).is_ok());
    }
}
