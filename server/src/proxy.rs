//! The client address behind trusted reverse proxies and load balancers.
//!
//! Several replicas behind a load balancer all see the balancer's address as
//! the peer of every connection; keyed on it, the failed-authentication
//! limiter would block every camera at once. When the peer is a configured
//! trusted proxy (`server.trusted_proxies`), the client is the right-most
//! `X-Forwarded-For` address that is not itself a trusted proxy; the header
//! is ignored from any other peer (a client cannot choose its own key).

use std::net::IpAddr;

/// Trusted proxy networks (`10.0.0.0/8`, `192.0.2.7`, `fd00::/8`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses addresses and CIDR networks.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let mut nets = Vec::with_capacity(entries.len());
        for entry in entries {
            let bad =
                || format!("server.trusted_proxies: {entry:?} is not an address or CIDR network");
            let (addr, bits) = match entry.split_once('/') {
                Some((addr, bits)) => (addr, Some(bits)),
                None => (entry.as_str(), None),
            };
            let addr: IpAddr = addr.trim().parse().map_err(|_| bad())?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(bits) => bits.trim().parse::<u8>().map_err(|_| bad())?,
                None => max,
            };
            if bits > max {
                return Err(bad());
            }
            nets.push((addr, bits));
        }
        Ok(Self(nets))
    }

    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0
            .iter()
            .any(|&(net, bits)| match (canonical(net), ip) {
                (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(&net.octets(), &ip.octets(), bits),
                (IpAddr::V6(net), IpAddr::V6(ip)) => prefix_eq(&net.octets(), &ip.octets(), bits),
                _ => false,
            })
    }

    /// The client address of a request from `peer` carrying `forwarded_for`
    /// (the `X-Forwarded-For` values, in order).
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let hops = forwarded_for
            .iter()
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        for hop in hops.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(ip) if self.contains(ip) => continue,
                Ok(ip) => return canonical(ip),
                // Garbage from an untrusted hop: stop at the last good proxy.
                Err(_) => return peer,
            }
        }
        peer
    }
}

/// IPv4-mapped IPv6 addresses compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let full = usize::from(bits / 8);
    let rest = bits % 8;
    if a[..full] != b[..full] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    a[full] & mask == b[full] & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let proxies =
            TrustedProxies::parse(&["10.0.0.0/8".into(), "192.0.2.7".into(), "fd00::/8".into()])
                .unwrap();
        assert!(proxies.contains(ip("10.1.2.3")));
        assert!(proxies.contains(ip("::ffff:10.1.2.3")));
        assert!(proxies.contains(ip("fd12::1")));
        assert!(!proxies.contains(ip("11.0.0.1")));
        assert!(!proxies.contains(ip("192.0.2.8")));
        // From a trusted balancer: the right-most untrusted hop.
        assert_eq!(
            proxies.client(ip("10.0.0.1"), &["203.0.113.9, 198.51.100.1, 10.0.0.2"]),
            ip("198.51.100.1")
        );
        assert_eq!(
            proxies.client(ip("10.0.0.1"), &["203.0.113.9", "198.51.100.1"]),
            ip("198.51.100.1")
        );
        // No header, or only proxies: the peer.
        assert_eq!(proxies.client(ip("10.0.0.1"), &[]), ip("10.0.0.1"));
        assert_eq!(proxies.client(ip("10.0.0.1"), &["garbage"]), ip("10.0.0.1"));
        // From anyone else the header is ignored.
        assert_eq!(
            proxies.client(ip("203.0.113.9"), &["198.51.100.1"]),
            ip("203.0.113.9")
        );
        assert!(TrustedProxies::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(TrustedProxies::parse(&["nonsense".into()]).is_err());
        assert_eq!(
            TrustedProxies::default().client(ip("10.0.0.1"), &["1.2.3.4"]),
            ip("10.0.0.1")
        );
    }
}
