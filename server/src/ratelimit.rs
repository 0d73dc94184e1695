//! Counting of failed authentication, per client network.
//!
//! A fixed window per client: after `limit` failures within `window`, a
//! *failed* authentication from that client answers 429 with `Retry-After`
//! instead of 401 until the window ends (see [`crate::auth`]: a valid
//! credential is never refused). Successful requests do not reset the count.
//!
//! A client is an IPv4 address, or an IPv6 /64: one household or one host
//! is given a /64, and counting each of its 2^64 addresses apart would let
//! a client pick a fresh address for every request and never be slowed.
//!
//! The table is bounded. Expired windows are pruned when it has doubled
//! since the last pruning, so a failure costs O(1) amortised, not a scan of
//! the table; a table full of live windows (a flood from more networks than
//! [`MAX_CLIENTS`] within one window) counts the clients it holds and lets
//! new ones through uncounted until a window expires. Credentials are
//! 256-bit random tokens: the limiter makes a misbehaving client back off,
//! and must not itself become what a flood exhausts (memory, or the CPU of
//! a scan under the lock on every failure).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Clients whose failures are counted at once: about 5 MiB of table.
pub const MAX_CLIENTS: usize = 65_536;
/// The table size at which expired windows are first pruned.
const FIRST_PRUNE: usize = 1_024;
/// A full table is pruned at most this often.
const FULL_PRUNE_EVERY: Duration = Duration::from_secs(1);

/// The unit failures are counted by: an IPv4 address, or the /64 an IPv6
/// address is in (an IPv4-mapped IPv6 address counts as its IPv4 address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Client {
    V4([u8; 4]),
    V6Net([u8; 8]),
}

impl Client {
    fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self::V4(v4.octets()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::V4(v4.octets()),
                None => {
                    let mut net = [0; 8];
                    net.copy_from_slice(&v6.octets()[..8]);
                    Self::V6Net(net)
                }
            },
        }
    }
}

/// Counts failed authentications per client network.
#[derive(Debug)]
pub struct FailedAuthLimiter {
    limit: u32,
    window: Duration,
    capacity: usize,
    table: Mutex<Table>,
}

#[derive(Debug)]
struct Table {
    /// Failures and the start of their window, per client.
    entries: HashMap<Client, (u32, Instant)>,
    /// The size at which expired windows are pruned next.
    prune_at: usize,
    last_prune: Option<Instant>,
}

impl FailedAuthLimiter {
    /// A limiter allowing `limit` failures per `window`.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self::with_capacity(limit, window, MAX_CLIENTS)
    }

    fn with_capacity(limit: u32, window: Duration, capacity: usize) -> Self {
        Self {
            limit,
            window,
            capacity,
            table: Mutex::new(Table {
                entries: HashMap::new(),
                prune_at: FIRST_PRUNE.min(capacity),
                last_prune: None,
            }),
        }
    }

    /// `Err(seconds)` when `ip`'s client is blocked, with the seconds until
    /// it may retry.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        match table.entries.get(&Client::of(ip)) {
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
        let client = Client::of(ip);
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = table.entries.get_mut(&client) {
            if now >= entry.1 + self.window {
                *entry = (0, now);
            }
            entry.0 = entry.0.saturating_add(1);
            return;
        }
        if table.entries.len() >= table.prune_at {
            self.prune(&mut table, now);
        }
        if table.entries.len() < self.capacity {
            table.entries.insert(client, (1, now));
        }
    }

    /// Drops expired windows (a full table at most once per
    /// [`FULL_PRUNE_EVERY`]) and sets the size of the next pruning to twice
    /// what is left.
    fn prune(&self, table: &mut Table, now: Instant) {
        let full = table.entries.len() >= self.capacity;
        if full
            && table
                .last_prune
                .is_some_and(|at| now < at + FULL_PRUNE_EVERY)
        {
            return;
        }
        let window = self.window;
        table.entries.retain(|_, (_, start)| now < *start + window);
        table.last_prune = Some(now);
        table.prune_at =
            (table.entries.len() * 2).clamp(FIRST_PRUNE.min(self.capacity), self.capacity);
        if table.entries.len() >= self.capacity {
            tracing::warn!(
                clients = table.entries.len(),
                "failed authentications from more networks than the limiter counts; \
                 new ones go uncounted until a window ends"
            );
        }
    }

    /// Clients counted now.
    #[cfg(test)]
    fn clients(&self) -> usize {
        self.table.lock().unwrap().entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn fail_until_blocked(limiter: &FailedAuthLimiter, ips: &[IpAddr]) {
        for ip in ips.iter().cycle().take(3) {
            assert!(limiter.check(*ip).is_ok());
            limiter.record_failure(*ip);
        }
    }

    #[test]
    fn blocks_after_the_limit_and_only_that_address() {
        let limiter = FailedAuthLimiter::new(3, Duration::from_secs(60));
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        fail_until_blocked(&limiter, &[a]);
        let retry = limiter.check(a).unwrap_err();
        assert!((1..=60).contains(&retry));
        assert!(limiter.check(b).is_ok());
    }

    /// A client that takes a new address of its /64 for every request is
    /// one client; the next /64 is another.
    #[test]
    fn an_ipv6_client_is_its_64_not_each_address() {
        let limiter = FailedAuthLimiter::new(3, Duration::from_secs(60));
        let in_net = |last: u16| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, last, 7, 9, last));
        fail_until_blocked(&limiter, &[in_net(1), in_net(2), in_net(0xffff)]);
        assert!(limiter.check(in_net(0xbeef)).is_err());
        let next_net = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 3, 1, 7, 9, 1));
        assert!(limiter.check(next_net).is_ok());
        // An IPv4-mapped address is its IPv4 address.
        let v4: IpAddr = [192, 0, 2, 1].into();
        let mapped = IpAddr::V6(Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped());
        fail_until_blocked(&limiter, &[mapped]);
        assert!(limiter.check(v4).is_err());
    }

    /// A flood from more networks than the table holds: the table stops
    /// at its capacity, the clients in it go on being counted (and blocked),
    /// and once their windows end the table takes new clients again.
    #[test]
    fn a_flood_of_networks_fills_the_table_to_its_bound_and_no_further() {
        let window = Duration::from_millis(300);
        let limiter = FailedAuthLimiter::with_capacity(3, window, 2_000);
        let net = |i: u32| {
            IpAddr::V6(Ipv6Addr::new(
                0x2001,
                0xdb8,
                (i >> 16) as u16,
                i as u16,
                1,
                1,
                1,
                1,
            ))
        };
        let offender: IpAddr = [198, 51, 100, 1].into();
        limiter.record_failure(offender);
        for i in 0..10_000 {
            limiter.record_failure(net(i));
        }
        assert_eq!(limiter.clients(), 2_000);
        // The offender was counted before the flood and still is.
        limiter.record_failure(offender);
        limiter.record_failure(offender);
        assert!(limiter.check(offender).is_err());
        // A client first seen during the flood goes uncounted.
        let late: IpAddr = [198, 51, 100, 2].into();
        for _ in 0..5 {
            limiter.record_failure(late);
        }
        assert!(limiter.check(late).is_ok());
        // The windows end: the table is pruned and counts new clients.
        std::thread::sleep(window + FULL_PRUNE_EVERY);
        fail_until_blocked(&limiter, &[late]);
        assert!(limiter.check(late).is_err());
        assert!(limiter.clients() < 10, "{} clients left", limiter.clients());
    }

    /// Expired windows are pruned as the table grows, not only when full.
    #[test]
    fn expired_windows_are_pruned_as_the_table_grows() {
        let window = Duration::from_millis(50);
        let limiter = FailedAuthLimiter::with_capacity(3, window, 100_000);
        for round in 0..4u32 {
            for i in 0..FIRST_PRUNE as u32 {
                limiter.record_failure(IpAddr::from((round << 16 | i).to_be_bytes()));
            }
            std::thread::sleep(window);
        }
        // Each round's clients expired before the next round pruned.
        assert!(
            limiter.clients() <= 2 * FIRST_PRUNE,
            "{} clients",
            limiter.clients()
        );
    }
}
