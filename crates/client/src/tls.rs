//! How this device reaches its server: HTTPS through rustls on the ring
//! provider, trusting the platform's roots (reqwest's
//! `rustls-platform-verifier`) or only a pinned CA; plain `http://` only to
//! a loopback address unless the user allowed it.
//!
//! reqwest is built without a bundled provider (its bundled one is aws-lc-rs,
//! a second crypto stack with a CMake build); [`install_crypto_provider`]
//! installs ring as the process's rustls provider when nothing else has. An
//! application that installs its own provider first keeps it.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::error::{ClientError, Result};

/// Installs ring as the process's default rustls provider unless one is
/// installed already. Idempotent and thread-safe; [`crate::api::Api`] calls
/// it before building its HTTP client.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // A concurrent caller may install first; either way one is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// The transport settings of a server, chosen at set-up and kept with the
/// device (`device.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transport {
    /// PEM certificates to trust *instead of* the platform's roots: a
    /// self-hosted server's own CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_pem: Option<String>,
    /// Permit plain `http://` to an address other than loopback (a trusted
    /// LAN without a TLS proxy). Tokens then cross that network in clear.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_http: bool,
}

impl Transport {
    /// Checks `url` against this policy: `https://` always; `http://` only to
    /// loopback or when allowed.
    pub fn check_url(&self, url: &reqwest::Url) -> Result<()> {
        match url.scheme() {
            "https" => Ok(()),
            "http" if self.allow_http || is_loopback(url) => Ok(()),
            "http" => Err(ClientError::BadInput(format!(
                "refusing plain http:// to {}: the device's credential and every token would cross \
                 the network unencrypted. Use the server's https:// address (its own [server.tls] \
                 or a TLS reverse proxy; --ca-file FILE trusts a private CA), or pass --allow-http \
                 on a network you trust",
                url.host_str().unwrap_or("?")
            ))),
            other => Err(ClientError::BadInput(format!(
                "{other}:// is not a server URL (expected https://host or http://127.0.0.1:port)"
            ))),
        }
    }

    /// Applies the pinned CA, if any, to a client under construction.
    pub(crate) fn apply(&self, builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder> {
        let Some(pem) = &self.ca_pem else {
            return Ok(builder);
        };
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|e| ClientError::BadInput(format!("the pinned CA is not PEM: {e}")))?;
        if certs.is_empty() {
            return Err(ClientError::BadInput(
                "the pinned CA file holds no certificate".into(),
            ));
        }
        Ok(builder.tls_certs_only(certs))
    }
}

/// `localhost`, `127.0.0.0/8` or `::1`.
fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(t: &Transport, url: &str) -> Result<()> {
        t.check_url(&reqwest::Url::parse(url).unwrap())
    }

    #[test]
    fn plain_http_only_to_loopback_unless_allowed() {
        let strict = Transport::default();
        for ok in [
            "https://cams.example.net",
            "http://127.0.0.1:7443",
            "http://127.1.2.3",
            "http://[::1]:7443",
            "http://localhost:7443",
        ] {
            assert!(check(&strict, ok).is_ok(), "{ok}");
        }
        for refused in [
            "http://cams.example.net",
            "http://192.168.1.10:7443",
            "http://[2001:db8::1]",
            "ftp://127.0.0.1",
        ] {
            assert!(check(&strict, refused).is_err(), "{refused}");
        }
        let err = check(&strict, "http://192.168.1.10:7443")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("https://") && err.contains("--allow-http"),
            "{err}"
        );
        let lan = Transport {
            allow_http: true,
            ..Transport::default()
        };
        assert!(check(&lan, "http://192.168.1.10:7443").is_ok());
    }

    #[test]
    fn a_pinned_ca_must_hold_a_certificate() {
        let bad = Transport {
            ca_pem: Some("not a certificate".into()),
            ..Transport::default()
        };
        assert!(bad.apply(reqwest::Client::builder()).is_err());
    }
}
