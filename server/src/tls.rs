//! rustls's crypto provider for the server's outgoing TLS (S3 through
//! object_store's reqwest client, PostgreSQL through sqlx): ring, the one
//! provider compiled in.

/// Installs ring as the process's default rustls provider unless one is
/// installed already (idempotent; called before any TLS client is built).
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // A concurrent caller may install first; either way one is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
