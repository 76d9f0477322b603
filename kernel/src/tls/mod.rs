//! TLS for skynet programs, on rustls (ring provider). skynet's `ltls.c` keeps OpenSSL over two
//! memory BIOs: the Lua side moves the encrypted bytes over `skynet.socket` itself and hands
//! them to the TLS object, which gives back what to send. rustls' `read_tls` /
//! `process_new_packets` / `write_tls` over in-memory buffers are the same design
//! ([`lua`] has the objects). This file builds the rustls configurations: certificates and
//! keys from PEM files, cipher lists, and the client's certificate policy.
//!
//! Client policy: like skynet's (OpenSSL's default `SSL_VERIFY_NONE`), a client context does
//! not verify the server's certificate; the handshake signatures are still checked, so the
//! session is encrypted to whoever holds the key of the certificate shown. `set_verify` (a
//! Cirrus addition) turns verification on, against a PEM CA file or the Mozilla roots.

pub mod lua;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{ring, CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme,
    SupportedCipherSuite,
};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{what} {path}: {source}")]
    Pem {
        what: &'static str,
        path: String,
        source: rustls::pki_types::pem::Error,
    },
    #[error("certfile {0}: no certificate in it")]
    NoCert(String),
    #[error("certificate and key do not go together: {0}")]
    Config(#[from] rustls::Error),
    #[error("set_ciphers {0:?}: names no cipher suite rustls has (it has: {1})")]
    NoCipher(String, String),
    #[error("cafile {0}: {1}")]
    Roots(String, String),
}

/// The cipher suites of the ring provider, with OpenSSL's names beside the IANA ones.
fn suite_names() -> [(SupportedCipherSuite, &'static str, &'static str); 9] {
    use ring::cipher_suite as cs;
    [
        (
            cs::TLS13_AES_256_GCM_SHA384,
            "TLS_AES_256_GCM_SHA384",
            "TLS13_AES_256_GCM_SHA384",
        ),
        (
            cs::TLS13_AES_128_GCM_SHA256,
            "TLS_AES_128_GCM_SHA256",
            "TLS13_AES_128_GCM_SHA256",
        ),
        (
            cs::TLS13_CHACHA20_POLY1305_SHA256,
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS13_CHACHA20_POLY1305_SHA256",
        ),
        (
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            "ECDHE-ECDSA-AES256-GCM-SHA384",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        ),
        (
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        ),
        (
            cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            "ECDHE-ECDSA-CHACHA20-POLY1305",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        ),
        (
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            "ECDHE-RSA-AES256-GCM-SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        ),
        (
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            "ECDHE-RSA-AES128-GCM-SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        ),
        (
            cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            "ECDHE-RSA-CHACHA20-POLY1305",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        ),
    ]
}

fn is_tls13(s: &SupportedCipherSuite) -> bool {
    matches!(s, SupportedCipherSuite::Tls13(_))
}

/// Map an OpenSSL-style cipher list (`:`, `,` or space separated) onto rustls' suites. Suite
/// names (OpenSSL's or IANA's) are kept in the order given; words that are not suite names
/// (`HIGH`, `!aNULL`, `@STRENGTH`, `DEFAULT`, suites rustls lacks such as CBC ones) are
/// ignored. As with OpenSSL's two lists, naming TLS 1.2 suites restricts TLS 1.2 only and
/// naming TLS 1.3 suites restricts TLS 1.3 only; a version none of whose suites is named
/// keeps all of its own. A list that names no suite rustls has is an error.
pub fn parse_ciphers(list: &str) -> Result<Vec<SupportedCipherSuite>, TlsError> {
    let table = suite_names();
    let mut picked: Vec<SupportedCipherSuite> = Vec::new();
    for word in list
        .split([':', ',', ' ', ';'])
        .filter(|w| !w.is_empty())
        .map(|w| w.trim_start_matches('+'))
    {
        if let Some((s, _, _)) = table
            .iter()
            .find(|(_, a, b)| a.eq_ignore_ascii_case(word) || b.eq_ignore_ascii_case(word))
        {
            if !picked.iter().any(|p| p.suite() == s.suite()) {
                picked.push(*s);
            }
        }
    }
    if picked.is_empty() {
        let known: Vec<&str> = table.iter().map(|(_, a, _)| *a).collect();
        return Err(TlsError::NoCipher(list.to_string(), known.join(":")));
    }
    let any13 = picked.iter().any(is_tls13);
    let any12 = picked.iter().any(|s| !is_tls13(s));
    let mut out: Vec<SupportedCipherSuite> = Vec::new();
    if !any13 {
        out.extend(table.iter().map(|t| t.0).filter(is_tls13));
    }
    out.extend(picked.iter().copied().filter(is_tls13));
    out.extend(picked.iter().copied().filter(|s| !is_tls13(s)));
    if !any12 {
        out.extend(table.iter().map(|t| t.0).filter(|s| !is_tls13(s)));
    }
    Ok(out)
}

/// The ring provider, with the cipher suites of `ciphers` when given.
pub fn provider(ciphers: Option<&[SupportedCipherSuite]>) -> Arc<CryptoProvider> {
    let mut p = ring::default_provider();
    if let Some(c) = ciphers {
        p.cipher_suites = c.to_vec();
    }
    Arc::new(p)
}

/// A certificate chain and its private key from PEM files (skynet's
/// `SSL_CTX_use_certificate_chain_file` + `SSL_CTX_use_PrivateKey_file`).
pub fn load_cert(
    certfile: &str,
    keyfile: &str,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    fn pem(what: &'static str, path: &str) -> impl Fn(rustls::pki_types::pem::Error) -> TlsError {
        let path = path.to_string();
        move |source| TlsError::Pem {
            what,
            path: path.clone(),
            source,
        }
    }
    let certs = CertificateDer::pem_file_iter(certfile)
        .map_err(pem("certfile", certfile))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem("certfile", certfile))?;
    if certs.is_empty() {
        return Err(TlsError::NoCert(certfile.to_string()));
    }
    let key = PrivateKeyDer::from_pem_file(keyfile).map_err(pem("keyfile", keyfile))?;
    Ok((certs, key))
}

/// A server configuration; fails when the key is not the certificate's (skynet's
/// `SSL_CTX_check_private_key`).
pub fn server_config(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    ciphers: Option<&[SupportedCipherSuite]>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let cfg = ServerConfig::builder_with_provider(provider(ciphers))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    Ok(Arc::new(cfg))
}

/// How a client checks the server's certificate.
#[derive(Clone)]
pub enum Verify {
    /// skynet's behaviour: any certificate (its handshake signature is still checked).
    None,
    /// The chain must lead to one of these roots and name the host.
    Roots(Arc<RootCertStore>),
}

impl Verify {
    /// Roots from a PEM file of CA certificates.
    pub fn from_cafile(cafile: &str) -> Result<Verify, TlsError> {
        let certs = CertificateDer::pem_file_iter(cafile)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| TlsError::Roots(cafile.to_string(), e.to_string()))?;
        let mut roots = RootCertStore::empty();
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(TlsError::Roots(
                cafile.to_string(),
                "no usable CA certificate in it".into(),
            ));
        }
        Ok(Verify::Roots(Arc::new(roots)))
    }

    /// The Mozilla root set (webpki-roots).
    pub fn mozilla() -> Verify {
        Verify::Roots(Arc::new(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        }))
    }
}

/// Accepts any server certificate but checks the handshake signatures made with its key.
#[derive(Debug)]
struct AnyCert(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// A client configuration. `sni`: whether the host name goes in the ClientHello (off for a
/// connection that has no host name; its sessions are then not resumed either).
pub fn client_config(
    verify: &Verify,
    ciphers: Option<&[SupportedCipherSuite]>,
    sni: bool,
) -> Result<Arc<ClientConfig>, TlsError> {
    let provider = provider(ciphers);
    let algs = provider.signature_verification_algorithms;
    let b = ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions()?;
    let mut cfg = match verify {
        Verify::None => b
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCert(algs)))
            .with_no_client_auth(),
        Verify::Roots(r) => b.with_root_certificates(r.clone()).with_no_client_auth(),
    };
    cfg.enable_sni = sni;
    if !sni {
        cfg.resumption = rustls::client::Resumption::disabled();
    }
    Ok(Arc::new(cfg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cipher_lists_map_onto_rustls_suites() {
        let only12 = parse_ciphers("ECDHE-RSA-AES128-GCM-SHA256:HIGH:!aNULL").unwrap();
        // TLS 1.3 untouched, TLS 1.2 restricted to the one named
        assert_eq!(only12.iter().filter(|s| is_tls13(s)).count(), 3);
        let v12: Vec<_> = only12.iter().filter(|s| !is_tls13(s)).collect();
        assert_eq!(v12.len(), 1);
        assert_eq!(
            v12[0].suite(),
            rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        );
        let only13 = parse_ciphers("TLS_CHACHA20_POLY1305_SHA256").unwrap();
        assert_eq!(only13.iter().filter(|s| is_tls13(s)).count(), 1);
        assert_eq!(only13.iter().filter(|s| !is_tls13(s)).count(), 6);
        let e = parse_ciphers("AES128-SHA:RC4").unwrap_err().to_string();
        assert!(e.contains("names no cipher suite"), "{e}");
    }
}
