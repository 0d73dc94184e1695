//! TLS to the server: rustls on the ring provider, with the platform's trust
//! roots (reqwest's `rustls-platform-verifier`) or a pinned CA.
//!
//! reqwest is built without a bundled provider (its bundled one is aws-lc-rs,
//! a second crypto stack with a CMake build); this installs ring as the
//! process's rustls provider when nothing else has. An application that
//! installs its own provider first keeps it.

/// Installs ring as the process's default rustls provider unless one is
/// installed already. Idempotent and thread-safe; [`crate::api::Api`] calls
/// it before building its HTTP client.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // A concurrent caller may install first; either way one is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
