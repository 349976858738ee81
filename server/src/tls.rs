//! HTTPS, so phones on a site's network get a secure context: browsers give service workers,
//! `crypto.subtle` and the camera only to pages served over HTTPS (or from localhost).
//!
//! - The certificate comes from `--tls-cert`/`--tls-key`, or from `<data>/tls/`, where
//!   `houqin-server tls init` puts a local certificate authority and a server certificate
//!   signed by it ([`init`]). Phones trust the authority once (`/setup` explains how).
//! - TLS is rustls through tokio-rustls: plain and secure connections go through the same
//!   [`crate::connections::serve`], bounded per address and in time before the handshake,
//!   and each handshake runs in its connection's task, so a client that stalls in it holds
//!   nobody else up.
//! - The certificate is looked up per handshake ([`Certificates`]), so replacing the files
//!   and sending SIGHUP serves the new one to new connections while open ones carry on.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::{Context, bail};
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};

/// The directory under `--data` that `tls init` writes and the server looks in.
pub const TLS_DIR: &str = "tls";
pub const CA_CERT: &str = "ca.pem";
const CA_KEY: &str = "ca.key";
pub const SERVER_CERT: &str = "server.pem";
pub const SERVER_KEY: &str = "server.key";

/// Validity of a server certificate: iOS refuses longer ones (825 days at most), even from
/// an authority the user trusts.
const SERVER_CERT_DAYS: i64 = 800;
const CA_DAYS: i64 = 20 * 365;

/// The PEM files a server presents: its certificate (with any intermediates) and its key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    /// The files `tls init` wrote under `data`, if both are there.
    pub fn in_data(data: &Path) -> Option<TlsFiles> {
        let dir = data.join(TLS_DIR);
        let files = TlsFiles { cert: dir.join(SERVER_CERT), key: dir.join(SERVER_KEY) };
        (files.cert.is_file() && files.key.is_file()).then_some(files)
    }
}

/// The server's certificate, swapped whole on [`reload`](Certificates::reload).
#[derive(Debug)]
pub struct Certificates {
    files: TlsFiles,
    current: RwLock<Arc<CertifiedKey>>,
}

impl Certificates {
    /// Reads the files; a missing or unreadable file, or a key that is not the
    /// certificate's, is an error naming the file.
    pub fn load(files: TlsFiles) -> anyhow::Result<Arc<Certificates>> {
        let current = read_pair(&files)?;
        Ok(Arc::new(Certificates { files, current: RwLock::new(current) }))
    }

    /// Reads the files again. On error the certificate served so far stays.
    pub fn reload(&self) -> anyhow::Result<()> {
        let fresh = read_pair(&self.files)?;
        *self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
        Ok(())
    }

    /// The rustls configuration serving these certificates (HTTP/1.1: the sync socket is a
    /// WebSocket upgrade).
    pub fn server_config(self: &Arc<Self>) -> anyhow::Result<Arc<ServerConfig>> {
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// Reads the files again on every signal of `hangups` (SIGHUP), for as long as the
    /// server runs.
    pub fn reload_on(self: &Arc<Self>, mut hangups: tokio::signal::unix::Signal) {
        let certificates = self.clone();
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                match certificates.reload() {
                    Ok(()) => tracing::info!(cert = %certificates.files.cert.display(), "SIGHUP: serving the certificate read again"),
                    Err(error) => tracing::error!(
                        error = format!("{error:#}"),
                        "SIGHUP: the certificate could not be read again; the previous one is still served"
                    ),
                }
            }
        });
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone())
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_pair(files: &TlsFiles) -> anyhow::Result<Arc<CertifiedKey>> {
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .with_context(|| format!("cannot read the certificate {}", files.cert.display()))?;
    if chain.is_empty() {
        bail!("{} holds no certificate", files.cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).with_context(|| format!("cannot read the private key {}", files.key.display()))?;
    let certified = CertifiedKey::from_der(chain, key, &provider())
        .with_context(|| format!("the key {} does not go with the certificate {}", files.key.display(), files.cert.display()))?;
    Ok(Arc::new(certified))
}

/// What `tls init` made.
#[derive(Debug)]
pub struct Initialised {
    pub dir: PathBuf,
    /// The authority was made now (else the one already there signed the new certificate).
    pub new_authority: bool,
    /// SHA-256 of the authority's certificate, as phones show it, `AB:CD:…`.
    pub authority_fingerprint: String,
}

/// Makes `<data>/tls/` hold a certificate authority and a server certificate for `hosts`
/// and `addresses`, signed by it. An authority already there is kept, so phones that
/// trust it keep trusting the server after its certificate is renewed.
pub fn init(data: &Path, hosts: &[String], addresses: &[IpAddr]) -> anyhow::Result<Initialised> {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
        SanType,
    };
    if hosts.is_empty() && addresses.is_empty() {
        bail!("name at least one --host or --ip by which phones reach this server");
    }
    let dir = data.join(TLS_DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;

    let ca_key_path = dir.join(CA_KEY);
    let ca_cert_path = dir.join(CA_CERT);
    let new_authority = !ca_key_path.exists();
    let ca_key = if new_authority {
        KeyPair::generate().context("cannot make the authority's key")?
    } else {
        let pem = std::fs::read_to_string(&ca_key_path).with_context(|| format!("cannot read {}", ca_key_path.display()))?;
        KeyPair::from_pem(&pem).with_context(|| format!("{} is not a private key", ca_key_path.display()))?
    };
    // The authority's name follows from its key, so the same key always names the same
    // authority and the certificates it signs chain to the copy phones already trust.
    let key_id = Sha256::digest(ca_key.public_key_raw());
    let mut authority = CertificateParams::default();
    authority.distinguished_name = DistinguishedName::new();
    authority.distinguished_name.push(DnType::OrganizationName, "Houqin");
    authority.distinguished_name.push(DnType::CommonName, format!("Houqin local CA {}", hex::encode(&key_id[..4])));
    authority.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    authority.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let now = time::OffsetDateTime::now_utc();
    authority.not_before = now - time::Duration::days(1);
    authority.not_after = now + time::Duration::days(CA_DAYS);
    if new_authority {
        let ca_cert = authority.self_signed(&ca_key).context("cannot sign the authority's certificate")?;
        write_private(&ca_key_path, ca_key.serialize_pem().as_bytes())?;
        write_public(&ca_cert_path, ca_cert.pem().as_bytes())?;
    } else if !ca_cert_path.is_file() {
        bail!(
            "{} is there but {} is not: restore it, or move the key away to make a new authority",
            ca_key_path.display(),
            ca_cert_path.display()
        );
    }

    let mut server = CertificateParams::default();
    server.distinguished_name = DistinguishedName::new();
    let first_name = hosts.first().cloned().or_else(|| addresses.first().map(IpAddr::to_string)).unwrap_or_default();
    server.distinguished_name.push(DnType::CommonName, first_name);
    for host in hosts {
        let name = host.trim().to_ascii_lowercase();
        if name.is_empty() || name.parse::<IpAddr>().is_ok() {
            bail!("{host:?} is not a host name (give addresses with --ip)");
        }
        server.subject_alt_names.push(SanType::DnsName(name.as_str().try_into().with_context(|| format!("{host:?} is not a host name"))?));
    }
    server.subject_alt_names.extend(addresses.iter().copied().map(SanType::IpAddress));
    server.is_ca = IsCa::ExplicitNoCa;
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.not_before = now - time::Duration::days(1);
    server.not_after = now + time::Duration::days(SERVER_CERT_DAYS);
    let server_key = KeyPair::generate().context("cannot make the server's key")?;
    let issuer = Issuer::new(authority, &ca_key);
    let server_cert = server.signed_by(&server_key, &issuer).context("cannot sign the server's certificate")?;
    // The key first: a server reading the pair in between sees a mismatch and keeps the
    // old one, rather than a new certificate with an old key.
    write_private(&dir.join(SERVER_KEY), server_key.serialize_pem().as_bytes())?;
    let ca_pem = std::fs::read_to_string(&ca_cert_path).with_context(|| format!("cannot read {}", ca_cert_path.display()))?;
    write_public(&dir.join(SERVER_CERT), server_cert.pem().as_bytes())?;
    Ok(Initialised { dir, new_authority, authority_fingerprint: fingerprint(&ca_pem)? })
}

/// The base64 SHA-256 of the key's SubjectPublicKeyInfo, the pin Chromium's
/// `--ignore-certificate-errors-spki-list` takes (and HPKP-style tools print).
pub fn spki_pin(files: &TlsFiles) -> anyhow::Result<String> {
    use base64ct::Encoding as _;
    let pair = read_pair(files)?;
    let spki = pair.key.public_key().context("the key does not tell its public half")?;
    Ok(base64ct::Base64::encode_string(&Sha256::digest(spki.as_ref())))
}

/// SHA-256 of the first certificate in `pem`, as `AB:CD:…`.
pub fn fingerprint(pem: &str) -> anyhow::Result<String> {
    let der = CertificateDer::from_pem_slice(pem.as_bytes()).context("not a PEM certificate")?;
    let digest = Sha256::digest(der.as_ref());
    Ok(digest.iter().map(|byte| hex::encode_upper([*byte])).collect::<Vec<_>>().join(":"))
}

/// Writes a key readable by its owner only, replacing the file whole.
fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    write_replacing(path, contents, 0o600)
}

fn write_public(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    write_replacing(path, contents, 0o644)
}

fn write_replacing(path: &Path, contents: &[u8], mode: u32) -> anyhow::Result<()> {
    use std::io::Write as _;
    crate::backup::write_file_atomically(path, mode, |file, written| {
        file.write_all(contents).with_context(|| format!("cannot write {}", written.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_makes_a_chain_for_the_names_and_keeps_the_authority_when_run_again() {
        use std::os::unix::fs::PermissionsExt as _;
        let data = tempfile::tempdir().unwrap();
        let first = init(data.path(), &["houqin.lan".into()], &["192.168.1.20".parse().unwrap()]).unwrap();
        assert!(first.new_authority);
        let files = TlsFiles::in_data(data.path()).expect("the server's files are where the server looks");
        for key in [CA_KEY, SERVER_KEY] {
            let mode = std::fs::metadata(first.dir.join(key)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{key}");
        }
        let certificates = Certificates::load(files.clone()).expect("the key goes with the certificate");
        certificates.server_config().unwrap();
        let ca = std::fs::read(first.dir.join(CA_CERT)).unwrap();
        let first_server = std::fs::read(&files.cert).unwrap();

        let second = init(data.path(), &["houqin.lan".into(), "houqin".into()], &[]).unwrap();
        assert!(!second.new_authority);
        assert_eq!(second.authority_fingerprint, first.authority_fingerprint);
        assert_eq!(std::fs::read(first.dir.join(CA_CERT)).unwrap(), ca, "phones keep trusting the same authority");
        assert_ne!(std::fs::read(&files.cert).unwrap(), first_server, "a new server certificate");
        certificates.reload().expect("the renewed pair loads");
    }

    #[test]
    fn init_needs_a_name_and_refuses_an_address_given_as_a_host() {
        let data = tempfile::tempdir().unwrap();
        assert!(init(data.path(), &[], &[]).is_err());
        assert!(init(data.path(), &["10.0.0.1".into()], &[]).unwrap_err().to_string().contains("--ip"));
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_refused_and_the_old_pair_stays() {
        let data = tempfile::tempdir().unwrap();
        init(data.path(), &["a.lan".into()], &[]).unwrap();
        let files = TlsFiles::in_data(data.path()).unwrap();
        let certificates = Certificates::load(files.clone()).unwrap();
        let other = tempfile::tempdir().unwrap();
        init(other.path(), &["b.lan".into()], &[]).unwrap();
        std::fs::copy(other.path().join(TLS_DIR).join(SERVER_KEY), &files.key).unwrap();
        let error = certificates.reload().unwrap_err();
        assert!(format!("{error:#}").contains("does not go with"), "{error:#}");
        assert!(Certificates::load(files).is_err());
    }
}
