//! The client side of a connection to a nianbao server, the one way the commands that talk
//! to one (`upload`, `query`, `export`, `backup`) reach it: a [`Remote`] (the endpoint, TLS for
//! https, the bearer token) [`Remote::connect`]s to a channel and the interceptor that sends
//! the token, or says why not ([`ConnectError`]).

use std::path::{Path, PathBuf};

use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic::{Request, Status};

/// A server to talk to, as `--server`, `--token` and `--ca-cert` name it.
#[derive(Debug, Clone)]
pub struct Remote {
    /// `http://host:port` or `https://host:port` (`host:port` is taken as http).
    pub endpoint: String,
    pub token: Option<String>,
    /// PEM CA certificate for https endpoints with a private CA.
    pub ca_cert: Option<PathBuf>,
}

/// A channel whose every request carries the token ([`Bearer`]): what a service client is
/// built on.
pub type Authorized = InterceptedService<Channel, Bearer>;

/// Why no channel to the server could be set up (nothing was sent): the endpoint could not
/// be parsed, its TLS settings (the CA certificate) read, or the token sent in a header.
/// Each command's error says it with the endpoint, in that command's words.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{why}")]
pub struct ConnectError {
    /// The endpoint as given.
    pub endpoint: String,
    pub why: String,
    /// It is the token that cannot be sent (the endpoint is fine).
    pub token: bool,
}

impl Remote {
    /// A lazily connecting channel to the server (nothing is sent until the first request),
    /// and the interceptor that adds the token to every request.
    pub fn connect(&self) -> Result<(Channel, Bearer), ConnectError> {
        let error = |why, token| ConnectError {
            endpoint: self.endpoint.clone(),
            why,
            token,
        };
        let channel =
            connect(&self.endpoint, self.ca_cert.as_deref()).map_err(|why| error(why, false))?;
        let bearer = Bearer::new(self.token.as_deref()).map_err(|why| error(why, true))?;
        Ok((channel, bearer))
    }
}

/// A lazily connecting channel to `endpoint` (`http://host:port` or `https://host:port`;
/// `ca_cert` names a PEM CA for a server with a private CA).
fn connect(endpoint: &str, ca_cert: Option<&Path>) -> Result<Channel, String> {
    let endpoint = &with_scheme(endpoint);
    let mut channel = Endpoint::from_shared(endpoint.to_owned()).map_err(|e| e.to_string())?;
    if endpoint.starts_with("https://") {
        let mut tls = ClientTlsConfig::new().with_native_roots();
        if let Some(ca) = ca_cert {
            let pem =
                std::fs::read(ca).map_err(|e| format!("CA certificate {}: {e}", ca.display()))?;
            tls = tls.ca_certificate(Certificate::from_pem(pem));
        }
        channel = channel.tls_config(tls).map_err(|e| e.to_string())?;
    }
    Ok(channel.tcp_nodelay(true).connect_lazy())
}

/// `endpoint` with `http://` in front when it names no scheme (`127.0.0.1:50051`, as
/// `serve --listen` takes it): without one, every connection attempt fails and is retried
/// until the retries run out.
pub fn with_scheme(endpoint: &str) -> String {
    if endpoint.contains("://") {
        endpoint.to_owned()
    } else {
        format!("http://{endpoint}")
    }
}

/// The `authorization` header's value for `token`.
fn bearer_value(token: &str) -> Result<MetadataValue<Ascii>, String> {
    format!("Bearer {token}")
        .parse()
        .map_err(|_| "the token holds characters a header cannot carry".to_owned())
}

/// Adds `authorization: Bearer <token>` to every request, when there is a token.
#[derive(Clone)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl Bearer {
    fn new(token: Option<&str>) -> Result<Bearer, String> {
        token.map(bearer_value).transpose().map(Bearer)
    }
}

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_without_a_scheme_is_http() {
        for (given, want) in [
            ("127.0.0.1:50051", "http://127.0.0.1:50051"),
            ("localhost:1", "http://localhost:1"),
            ("http://127.0.0.1:50051", "http://127.0.0.1:50051"),
            ("https://nianbao.example:443", "https://nianbao.example:443"),
        ] {
            assert_eq!(with_scheme(given), want);
        }
    }
}
