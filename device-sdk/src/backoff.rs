//! Exponential backoff with full jitter, honouring `Retry-After`.
//!
//! After the n-th consecutive failure a camera waits a uniformly random time
//! in `[0, min(cap, base · 2ⁿ)]` ("full jitter"), so a fleet that lost its
//! server at the same instant does not come back in lockstep. When the server
//! said `Retry-After: s`, the wait is `s` plus that jitter: never earlier
//! than asked, and still spread out.

use std::time::{Duration, Instant};

use rand::Rng;

/// The backoff parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// The window after the first failure.
    pub base: Duration,
    /// The largest window.
    pub cap: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(300),
        }
    }
}

/// The longest wait a server's `Retry-After` can impose on one attempt: a
/// larger value (up to `u64::MAX` seconds, which overflowed the deadline and
/// panicked the camera before its part was spooled) is taken as this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

impl BackoffPolicy {
    /// The jitter window after `failures` consecutive failures (≥ 1).
    pub fn window(&self, failures: u32) -> Duration {
        let shift = failures.saturating_sub(1).min(30);
        self.base
            .checked_mul(1u32 << shift)
            .unwrap_or(self.cap)
            .min(self.cap)
    }

    /// The wait after `failures` consecutive failures, given the server's `Retry-After`.
    pub fn delay(
        &self,
        failures: u32,
        retry_after: Option<Duration>,
        rng: &mut impl Rng,
    ) -> Duration {
        let window = self.window(failures);
        let jitter = Duration::from_nanos(rng.gen_range(0..=window.as_nanos() as u64));
        retry_after
            .unwrap_or_default()
            .min(MAX_RETRY_AFTER)
            .saturating_add(jitter)
    }
}

/// The backoff state of one camera.
#[derive(Debug, Clone, Default)]
pub(crate) struct Backoff {
    pub failures: u32,
    pub not_before: Option<Instant>,
}

impl Backoff {
    pub fn failed(&mut self, policy: &BackoffPolicy, retry_after: Option<Duration>) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let delay = policy.delay(self.failures, retry_after, &mut rand::thread_rng());
        // At most `MAX_RETRY_AFTER` plus the window's cap: no overflow.
        self.not_before = Some(Instant::now() + delay);
        delay
    }

    pub fn succeeded(&mut self) {
        self.failures = 0;
        self.not_before = None;
    }

    /// How long until the next attempt is due (zero when due now).
    pub fn remaining(&self) -> Duration {
        self.not_before
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn a_servers_retry_after_is_bounded() {
        let p = BackoffPolicy::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut b = Backoff::default();
        let delay = b.failed(&p, Some(Duration::from_secs(u64::MAX)));
        assert!(delay >= MAX_RETRY_AFTER && delay <= MAX_RETRY_AFTER + p.window(1));
        assert!(b.remaining() <= delay);
        let d = p.delay(40, Some(Duration::MAX), &mut rng);
        assert!(d <= MAX_RETRY_AFTER + p.cap, "{d:?}");
        assert!(p.delay(1, Some(Duration::from_secs(5)), &mut rng) >= Duration::from_secs(5));
    }

    #[test]
    fn windows_double_up_to_the_cap() {
        let p = BackoffPolicy {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        };
        assert_eq!(p.window(1), Duration::from_millis(100));
        assert_eq!(p.window(2), Duration::from_millis(200));
        assert_eq!(p.window(4), Duration::from_millis(800));
        assert_eq!(p.window(5), Duration::from_secs(1));
        assert_eq!(p.window(u32::MAX), Duration::from_secs(1));
    }

    #[test]
    fn full_jitter_spreads_and_retry_after_is_a_floor() {
        let p = BackoffPolicy::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let delays: Vec<_> = (0..200).map(|_| p.delay(3, None, &mut rng)).collect();
        assert!(delays.iter().all(|d| *d <= p.window(3)));
        let lo = delays.iter().filter(|d| **d < p.window(3) / 2).count();
        assert!(
            lo > 50 && lo < 150,
            "not spread: {lo} of 200 in the lower half"
        );
        for _ in 0..100 {
            let d = p.delay(1, Some(Duration::from_secs(2)), &mut rng);
            assert!(d >= Duration::from_secs(2) && d <= Duration::from_secs(2) + p.window(1));
        }
    }
}
