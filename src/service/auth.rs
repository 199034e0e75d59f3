//! Optional bearer-token check for the ingest and query services (health stays open).
//! The token is compared in constant time and never logged.

use std::sync::Arc;

use subtle::ConstantTimeEq;
use tonic::{Request, Status};

/// An interceptor: passes every request when no token is set, else only requests carrying
/// `authorization: Bearer <token>`.
#[derive(Clone)]
pub struct BearerAuth {
    token: Option<Arc<[u8]>>,
}

impl BearerAuth {
    pub fn new(token: Option<&str>) -> BearerAuth {
        BearerAuth {
            token: token
                .filter(|t| !t.is_empty())
                .map(|t| Arc::from(t.as_bytes())),
        }
    }

    /// Checks one request's metadata.
    pub fn check(&self, request: Request<()>) -> Result<Request<()>, Status> {
        let Some(token) = &self.token else {
            return Ok(request);
        };
        let presented = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::as_bytes);
        match presented {
            Some(p) if bool::from(p.ct_eq(token)) => Ok(request),
            Some(_) => Err(Status::unauthenticated("wrong bearer token")),
            None => Err(Status::unauthenticated(
                "missing bearer token: send the header `authorization: Bearer <token>`",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(header: Option<&str>) -> Request<()> {
        let mut r = Request::new(());
        if let Some(h) = header {
            r.metadata_mut().insert("authorization", h.parse().unwrap());
        }
        r
    }

    #[test]
    fn checks_bearer_tokens() {
        let open = BearerAuth::new(None);
        assert!(open.check(with(None)).is_ok());
        let auth = BearerAuth::new(Some("s3cret"));
        assert!(auth.check(with(Some("Bearer s3cret"))).is_ok());
        for bad in [
            None,
            Some("Bearer s3cre"),
            Some("Bearer s3cret2"),
            Some("s3cret"),
            Some("Basic s3cret"),
        ] {
            let e = auth.check(with(bad)).unwrap_err();
            assert_eq!(e.code(), tonic::Code::Unauthenticated, "{bad:?}");
            assert!(!e.message().contains("s3cret"));
        }
    }
}
