//! How the camera reaches its server: HTTPS through rustls on ring with
//! Mozilla's roots (bundled: a camera has no platform store to trust) or a
//! pinned CA of the camera maker's or the self-hoster's; plain `http://` only
//! to a loopback address unless the firmware allows it. The server URL comes
//! from the pairing code, which the owner's app made: a code naming
//! `http://` on the internet is refused instead of sending the camera's
//! credential in clear.

use std::net::IpAddr;

use crate::DeviceError;

/// The camera's transport policy (`DeviceConfig::transport`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransportPolicy {
    /// PEM certificates to trust instead of the bundled roots.
    pub ca_pem: Option<Vec<u8>>,
    /// Permit plain `http://` to an address other than loopback.
    pub allow_insecure_http: bool,
}

impl TransportPolicy {
    /// Checks `url`: `https://` always; `http://` only to loopback or when allowed.
    pub(crate) fn check_url(&self, url: &str) -> Result<(), DeviceError> {
        let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
        match scheme {
            "https" => Ok(()),
            "http" if self.allow_insecure_http || is_loopback(rest) => Ok(()),
            "http" => Err(DeviceError::Insecure(format!(
                "refusing plain http:// to {}: the camera's credential would cross the network \
                 unencrypted; pair with a code that names the server's https:// address, or allow \
                 plain HTTP in the camera's configuration on a network you trust",
                host_of(rest)
            ))),
            _ => Err(DeviceError::Insecure(format!(
                "{url:?} is not a server URL (expected https://host)"
            ))),
        }
    }

    /// The agent's TLS settings: the pinned CA, or the bundled roots.
    #[cfg(feature = "tls")]
    pub(crate) fn tls_config(&self) -> Result<ureq::tls::TlsConfig, DeviceError> {
        use ureq::tls::{parse_pem, PemItem, RootCerts, TlsConfig};
        let mut builder = TlsConfig::builder();
        if let Some(pem) = &self.ca_pem {
            let mut certs = Vec::new();
            for item in parse_pem(pem) {
                match item {
                    Ok(PemItem::Certificate(c)) => certs.push(c),
                    Ok(_) => {}
                    Err(e) => {
                        return Err(DeviceError::Insecure(format!(
                            "the pinned CA is not PEM: {e}"
                        )))
                    }
                }
            }
            if certs.is_empty() {
                return Err(DeviceError::Insecure(
                    "the pinned CA holds no certificate".into(),
                ));
            }
            builder = builder.root_certs(RootCerts::from(certs));
        }
        Ok(builder.build())
    }
}

/// The host of `rest` (what follows `scheme://`), without port or brackets.
fn host_of(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or("");
    }
    authority.split(':').next().unwrap_or("")
}

fn is_loopback(rest: &str) -> bool {
    let host = host_of(rest);
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback_unless_allowed() {
        let strict = TransportPolicy::default();
        for ok in [
            "https://cams.example.net",
            "http://127.0.0.1:7443",
            "http://[::1]:7443/",
            "http://localhost",
        ] {
            assert!(strict.check_url(ok).is_ok(), "{ok}");
        }
        for refused in [
            "http://cams.example.net",
            "http://10.0.0.2:7443",
            "http://127.0.0.1.evil.net",
            "http://user@10.0.0.2",
            "ftp://127.0.0.1",
        ] {
            assert!(strict.check_url(refused).is_err(), "{refused}");
        }
        let lan = TransportPolicy {
            allow_insecure_http: true,
            ..TransportPolicy::default()
        };
        assert!(lan.check_url("http://10.0.0.2:7443").is_ok());
    }
}
