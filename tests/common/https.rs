//! HTTPS for integration tests of servers on 127.0.0.1.
//!
//! - [`Ca`] makes a certificate authority with rcgen and issues serving and
//!   client certificates from it.
//! - [`Client`] is a TLS client configuration (rustls, ring provider only): the
//!   CA it trusts, an optional client certificate and the protocol versions it
//!   may speak. [`Client::connect`] gives a keep-alive HTTP/1.1 [`Connection`]
//!   (hyper); [`Client::tls`] gives the bare TLS stream for tests that write
//!   bytes by hand.
//! - [`connect_plain`] is the same [`Connection`] over plain TCP, for probe and
//!   metrics ports.
//! - [`trickle`] is a request body that arrives in pieces over time, for
//!   requests that must still be in flight while something else happens.

use std::convert::Infallible;
use std::future::Future as _;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Body, Bytes, Frame, SizeHint};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONTENT_TYPE, HOST, HeaderMap};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ProtocolVersion, RootCertStore};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Any error of a request, with its causes (see [`error_chain`]).
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A request body: whole ([`full`]) or in pieces over time ([`trickle`]).
pub type ReqBody = BoxBody<Bytes, Infallible>;

/// A certificate authority for one test.
pub struct Ca {
    /// The CA certificate, PEM: what a peer must trust.
    pub pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A certificate and its private key, PEM.
#[derive(Clone, Debug)]
pub struct Identity {
    pub cert_pem: String,
    pub key_pem: String,
}

impl Ca {
    /// A new self-signed CA named `name`.
    pub fn new(name: &str) -> Ca {
        let key = KeyPair::generate().expect("generating a CA key");
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let pem = params.self_signed(&key).expect("self-signing the CA").pem();
        Ca {
            pem,
            issuer: Issuer::new(params, key),
        }
    }

    /// A serving certificate for `names` (IP addresses or DNS names).
    pub fn server_cert(&self, names: &[&str]) -> Identity {
        let sans: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(sans).expect("subject alternative names");
        params.distinguished_name.push(
            DnType::CommonName,
            names.first().copied().unwrap_or("server"),
        );
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue(params)
    }

    /// A client certificate whose subject is `name`.
    pub fn client_cert(&self, name: &str) -> Identity {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.issue(params)
    }

    fn issue(&self, params: CertificateParams) -> Identity {
        let key = KeyPair::generate().expect("generating a key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("signing a certificate");
        Identity {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// The TLS versions a [`Client`] offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Versions {
    /// TLS 1.2 only.
    Tls12,
    /// TLS 1.3 only.
    Tls13,
    /// Both, 1.3 preferred.
    Any,
}

/// A TLS client configuration; cheap to clone.
#[derive(Clone)]
pub struct Client {
    config: Arc<ClientConfig>,
}

impl Client {
    /// Trusts only the CA certificates in `ca_pem`; presents `identity` when
    /// given; speaks `versions`; offers ALPN `http/1.1`.
    pub fn new(ca_pem: &str, versions: Versions, identity: Option<&Identity>) -> Client {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
            roots
                .add(cert.expect("a PEM CA certificate"))
                .expect("a usable CA certificate");
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let versions: &[&'static rustls::SupportedProtocolVersion] = match versions {
            Versions::Tls12 => &[&rustls::version::TLS12],
            Versions::Tls13 => &[&rustls::version::TLS13],
            Versions::Any => &[&rustls::version::TLS13, &rustls::version::TLS12],
        };
        let builder = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .expect("protocol versions")
            .with_root_certificates(roots);
        let mut config = match identity {
            Some(id) => {
                let chain: Vec<CertificateDer<'static>> =
                    CertificateDer::pem_slice_iter(id.cert_pem.as_bytes())
                        .collect::<Result<_, _>>()
                        .expect("a PEM client certificate");
                let key =
                    PrivateKeyDer::from_pem_slice(id.key_pem.as_bytes()).expect("a PEM client key");
                builder
                    .with_client_auth_cert(chain, key)
                    .expect("a client identity")
            }
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Client {
            config: Arc::new(config),
        }
    }

    /// Connects and completes the TLS handshake with `addr`, verifying its
    /// certificate for the address's IP.
    ///
    /// With TLS 1.3 the client's side of the handshake ends before the server
    /// has judged the client's certificate: a refusal of that certificate
    /// shows on the first read, not here.
    pub async fn tls(&self, addr: SocketAddr) -> std::io::Result<TlsStream<TcpStream>> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let name = ServerName::IpAddress(addr.ip().into());
        TlsConnector::from(self.config.clone())
            .connect(name, tcp)
            .await
    }

    /// A keep-alive HTTP/1.1 connection over TLS.
    pub async fn connect(&self, addr: SocketAddr) -> Result<Connection, Error> {
        let stream = self.tls(addr).await?;
        let version = stream.get_ref().1.protocol_version();
        let mut conn = Connection::handshake(stream, addr).await?;
        conn.tls_version = version;
        Ok(conn)
    }

    /// [`Client::connect`] that notes when the TCP connection was established
    /// (the kernel's handshake done, before TLS): `Err` with `Some` instant
    /// when it failed after that, with `None` when TCP itself failed.
    pub async fn connect_noting_tcp(
        &self,
        addr: SocketAddr,
    ) -> Result<(Connection, Instant), (Option<Instant>, Error)> {
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| (None, e.into()))?;
        let established = Instant::now();
        let failed = |e: Error| (Some(established), e);
        tcp.set_nodelay(true).map_err(|e| failed(e.into()))?;
        let name = ServerName::IpAddress(addr.ip().into());
        let stream = TlsConnector::from(self.config.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| failed(e.into()))?;
        let version = stream.get_ref().1.protocol_version();
        let mut conn = Connection::handshake(stream, addr).await.map_err(failed)?;
        conn.tls_version = version;
        Ok((conn, established))
    }
}

/// A keep-alive HTTP/1.1 connection over plain TCP.
pub async fn connect_plain(addr: SocketAddr) -> Result<Connection, Error> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    Connection::handshake(tcp, addr).await
}

/// One HTTP/1.1 connection; every request goes over it, one at a time.
pub struct Connection {
    sender: SendRequest<ReqBody>,
    driver: JoinHandle<()>,
    host: String,
    /// The negotiated TLS version (`None` over plain TCP).
    pub tls_version: Option<ProtocolVersion>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// An HTTP answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics with the body when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The `Content-Type` header, or "".
    pub fn content_type(&self) -> &str {
        self.headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl Connection {
    async fn handshake<IO>(io: IO, addr: SocketAddr) -> Result<Connection, Error>
    where
        IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await?;
        let driver = tokio::spawn(async move {
            // Errors surface on the requests; the driver only has to run.
            let _ = conn.await;
        });
        Ok(Connection {
            sender,
            driver,
            host: addr.to_string(),
            tls_version: None,
        })
    }

    /// `POST path` with a JSON body.
    pub async fn post(&mut self, path: &str, body: impl Into<Bytes>) -> Result<Answer, Error> {
        self.send(Method::POST, path, full(body)).await
    }

    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> Result<Answer, Error> {
        self.send(Method::GET, path, full(Bytes::new())).await
    }

    /// Sends one request and reads its whole answer.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: ReqBody,
    ) -> Result<Answer, Error> {
        self.sender.ready().await?;
        let mut request = Request::builder()
            .method(method.clone())
            .uri(path)
            .header(HOST, &self.host);
        if method == Method::POST {
            request = request.header(CONTENT_TYPE, "application/json");
        }
        let response = self.sender.send_request(request.body(body)?).await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// True once the connection can take no more requests.
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }
}

/// A body sent at once.
pub fn full(body: impl Into<Bytes>) -> ReqBody {
    Full::new(body.into()).boxed()
}

/// A body of known length sent in `pieces` parts, the first at once and each
/// next one `every` later: it takes about `(pieces - 1) * every` to arrive.
pub fn trickle(body: impl Into<Bytes>, pieces: usize, every: Duration) -> ReqBody {
    let rest: Bytes = body.into();
    let piece = rest.len().div_ceil(pieces.max(1)).max(1);
    Trickle {
        rest,
        piece,
        every,
        wait: None,
    }
    .boxed()
}

struct Trickle {
    rest: Bytes,
    piece: usize,
    every: Duration,
    wait: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Body for Trickle {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.rest.is_empty() {
            return Poll::Ready(None);
        }
        if let Some(wait) = self.wait.as_mut()
            && wait.as_mut().poll(cx).is_pending()
        {
            return Poll::Pending;
        }
        let n = self.piece.min(self.rest.len());
        let chunk = self.rest.split_to(n);
        let every = self.every;
        self.wait = Some(Box::pin(tokio::time::sleep(every)));
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.rest.len() as u64)
    }
}

/// An error and all its causes, `: `-separated, to assert on.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}
