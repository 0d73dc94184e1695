//! A test CA and server certificates (rcgen), written as PEM files the way a
//! self-hoster keeps them: the CA for clients to pin, the server's chain and
//! its key (mode 0600) for `[server.tls]`.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

use crate::HarnessError;

/// A CA and the files of one server certificate it issued.
pub struct TestPki {
    ca: CertifiedIssuer<'static, KeyPair>,
    /// The CA certificate (PEM): what clients pin.
    pub ca_file: PathBuf,
    /// The server's certificate chain (PEM, leaf first).
    pub cert_file: PathBuf,
    /// The server's private key (PEM, mode 0600).
    pub key_file: PathBuf,
    issued: u32,
}

impl std::fmt::Debug for TestPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPki")
            .field("ca_file", &self.ca_file)
            .field("cert_file", &self.cert_file)
            .finish_non_exhaustive()
    }
}

fn rcgen_error(e: rcgen::Error) -> HarnessError {
    format!("rcgen: {e}").into()
}

impl TestPki {
    /// A new CA in `dir`, and a certificate for `localhost` and 127.0.0.1.
    pub fn new(dir: &Path) -> Result<Self, HarnessError> {
        std::fs::create_dir_all(dir)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(rcgen_error)?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "sealcam test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().map_err(rcgen_error)?)
            .map_err(rcgen_error)?;
        let ca_file = dir.join("ca.pem");
        std::fs::write(&ca_file, ca.pem())?;
        let mut pki = Self {
            ca,
            ca_file,
            cert_file: dir.join("server.pem"),
            key_file: dir.join("server.key"),
            issued: 0,
        };
        pki.issue()?;
        Ok(pki)
    }

    /// Issues a new server certificate (a new key) over the files: what a
    /// renewal does before `SIGHUP`. Returns the new leaf (DER).
    pub fn issue(&mut self) -> Result<Vec<u8>, HarnessError> {
        self.issued += 1;
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .map_err(rcgen_error)?;
        params.distinguished_name.push(
            DnType::CommonName,
            format!("sealcam test server {}", self.issued),
        );
        let key = KeyPair::generate().map_err(rcgen_error)?;
        let cert = params.signed_by(&key, &self.ca).map_err(rcgen_error)?;
        std::fs::write(&self.cert_file, cert.pem())?;
        write_private(&self.key_file, key.serialize_pem().as_bytes())?;
        Ok(cert.der().to_vec())
    }
}

/// Writes `bytes` to `path` with mode 0600.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), HarnessError> {
    std::fs::write(path, bytes)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

/// The leaf certificate (DER) the TLS server at `addr` presents, verified
/// against the CA in `ca_file` for the name `localhost`.
pub async fn presented_leaf(addr: &str, ca_file: &Path) -> Result<Vec<u8>, HarnessError> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, ServerName};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_file).map_err(|e| e.to_string())? {
        roots
            .add(cert.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
    let tls = connector.connect(name, tcp).await?;
    let (_, conn) = tls.get_ref();
    conn.peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.to_vec())
        .ok_or_else(|| "no certificate presented".into())
}
