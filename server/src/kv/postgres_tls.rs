//! TLS to PostgreSQL, read from the database URL's `sslmode` as libpq reads it: `disable`
//! (plain), `prefer` (the default: encrypted when the server offers it), `require`
//! (encrypted or nothing) — neither of which checks the server's certificate — and
//! `verify-ca` (encrypted, the certificate signed by a trusted authority) and
//! `verify-full` (that, and issued for the host connected to). The authorities trusted are
//! those of the PEM file `sslrootcert` names, else the system's. Managed databases
//! commonly refuse unencrypted connections.

use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use anyhow::Context as _;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};

/// A database URL read: what tokio-postgres connects with, and how it encrypts.
pub struct Settings {
    pub config: tokio_postgres::Config,
    pub tls: MakeRustls,
}

/// How the server's certificate is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    /// Not at all (`prefer`, `require`: encrypted against eavesdropping only).
    Nothing,
    /// Signed by a trusted authority (`verify-ca`).
    Authority,
    /// That, and issued for the host (`verify-full`).
    AuthorityAndHost,
}

/// Reads `url` (`postgres://…?sslmode=…&sslrootcert=…`). tokio-postgres knows `disable`,
/// `prefer` and `require`; the two `verify-` modes are `require` to it, with the check
/// done here.
pub fn read(url: &str) -> anyhow::Result<Settings> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut kept = Vec::new();
    let (mut check, mut root) = (Check::Nothing, None);
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        match pair.split_once('=') {
            Some(("sslmode", "verify-ca")) => {
                check = Check::Authority;
                kept.push("sslmode=require");
            }
            Some(("sslmode", "verify-full")) => {
                check = Check::AuthorityAndHost;
                kept.push("sslmode=require");
            }
            Some(("sslrootcert", path)) => root = Some(path),
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) };
    let config: tokio_postgres::Config = url.parse().context("the database URL does not read")?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let authorities = match check {
        Check::Nothing => None,
        Check::Authority | Check::AuthorityAndHost => {
            let roots = Arc::new(authorities(root.map(Path::new))?);
            let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .context("cannot set up TLS to PostgreSQL")?;
            Some((webpki, check == Check::AuthorityAndHost))
        }
    };
    let client = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("cannot set up TLS to PostgreSQL")?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Verifier { provider, authorities }))
        .with_no_client_auth();
    Ok(Settings { config, tls: MakeRustls(Arc::new(client)) })
}

/// The authorities in the PEM file at `path`, else the system's.
fn authorities(path: Option<&Path>) -> anyhow::Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    match path {
        Some(path) => {
            for certificate in CertificateDer::pem_file_iter(path).with_context(|| format!("cannot read sslrootcert {}", path.display()))? {
                let certificate = certificate.with_context(|| format!("sslrootcert {} holds no certificate that reads", path.display()))?;
                roots
                    .add(certificate)
                    .with_context(|| format!("sslrootcert {} holds a certificate that is not an authority's", path.display()))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
        }
    }
    anyhow::ensure!(!roots.is_empty(), "no certificate authority to check the database's certificate against (give sslrootcert)");
    Ok(roots)
}

/// Checks the database's certificate as `sslmode` asks; whatever the mode, that the
/// server holds the certificate's key.
#[derive(Debug)]
struct Verifier {
    provider: Arc<CryptoProvider>,
    /// The authorities' check and whether the host name counts (`verify-full`), or
    /// `None`: the certificate is not checked (`prefer`, `require`).
    authorities: Option<(Arc<rustls::client::WebPkiServerVerifier>, bool)>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some((webpki, host_counts)) = &self.authorities else { return Ok(ServerCertVerified::assertion()) };
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName | rustls::CertificateError::NotValidForNameContext { .. },
            )) if !host_counts => Ok(ServerCertVerified::assertion()),
            checked => checked,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, signature, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, signature, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// Makes a TLS connection for each database connection.
#[derive(Clone)]
pub struct MakeRustls(Arc<rustls::ClientConfig>);

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> MakeTlsConnect<S> for MakeRustls {
    type Stream = Stream<S>;
    type TlsConnect = Connect;
    type Error = rustls::pki_types::InvalidDnsNameError;

    fn make_tls_connect(&mut self, host: &str) -> Result<Connect, Self::Error> {
        Ok(Connect { config: self.0.clone(), name: ServerName::try_from(host.to_owned())? })
    }
}

/// One connection's TLS handshake, to come.
pub struct Connect {
    config: Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> TlsConnect<S> for Connect {
    type Stream = Stream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Stream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move { Ok(Stream(tokio_rustls::TlsConnector::from(self.config).connect(self.name, stream).await?)) })
    }
}

/// An encrypted connection to PostgreSQL.
pub struct Stream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Stream<S> {
    fn poll_read(mut self: Pin<&mut Self>, context: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(context, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Stream<S> {
    fn poll_write(mut self: Pin<&mut Self>, context: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(context, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(context)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(context)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> tokio_postgres::tls::TlsStream for Stream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}
