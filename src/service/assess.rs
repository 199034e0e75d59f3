//! A stored report's compliance (GetReport's `include_compliance`, the report card). Under
//! the default profile, the basis stored at ingest is finished beside the year before's,
//! as the store scores reports for rankings. Under another profile (or for a report stored
//! without a basis), its text and its body's report of the year before come from the
//! store, are read with the server's one reader on the blocking pool, then
//! [`crate::compliance::assess`] scores them.

use crate::compliance::{self, Profile};
use crate::model::form::body_key;
use crate::pb::{Compliance, Report};
use crate::store::Store;
use crate::{Hints, Reader};

use super::ServiceError;

/// The shipped profile `name` (empty: the default), or INVALID_ARGUMENT naming them.
pub(super) fn check_profile(name: &str) -> Result<Profile, ServiceError> {
    let name = match name.trim() {
        "" => compliance::profile::DEFAULT_PROFILE,
        name => name,
    };
    compliance::profile::builtin(name).ok_or_else(|| {
        let names: Vec<&str> = compliance::profile::builtin_names().collect();
        ServiceError::InvalidArgument(format!("profile {name:?}: use one of {}", names.join(", ")))
    })
}

/// The compliance of the stored report `id` (`report`) under `profile`, with the same
/// body's counted report of the year before when one is stored.
pub(super) async fn compliance(
    store: &Store,
    reader: &Reader,
    id: &str,
    report: Report,
    profile: Profile,
) -> Result<Compliance, ServiceError> {
    let previous = body_key(&report)
        .and_then(|(agency, year)| store.index().latest_id(&agency, year - 1))
        .filter(|p| p != id);
    let store = store.clone();
    let reader = reader.clone();
    let id = id.to_owned();
    tokio::task::spawn_blocking(move || -> Result<Compliance, ServiceError> {
        // Under the default profile the basis stored at ingest is finished as the store
        // finished it for rankings: the same score, without reading the document again.
        if profile.name == compliance::profile::DEFAULT_PROFILE {
            if let Some(basis) = store.basis(&id)? {
                let before = match &previous {
                    Some(p) => store.get(p)?.map(|r| (r, store.basis(p))),
                    None => None,
                };
                let before = match before {
                    Some((r, Ok(b))) => Some((r, b)),
                    Some((_, Err(e))) => return Err(e.into()),
                    None => None,
                };
                let assessment = basis.finish(
                    &report,
                    before.as_ref().map(|(report, basis)| compliance::Previous {
                        report,
                        narrative: basis.as_ref().and_then(|b| b.narrative.as_deref()),
                    }),
                    &profile,
                );
                return Ok(compliance::render::to_proto(
                    &assessment,
                    before.as_ref().map_or("", |(r, _)| r.id.as_str()),
                ));
            }
        }
        let text_of = |id: &str| -> Result<String, ServiceError> {
            Ok(match store.document(id)? {
                Some((content, hints)) => reader
                    .text(&content, &Hints::from(&hints))
                    .unwrap_or_default(),
                None => String::new(),
            })
        };
        let text = text_of(&id)?;
        let before = match &previous {
            Some(p) => store.get(p)?.map(|r| (r, text_of(p))),
            None => None,
        };
        let before = match before {
            Some((r, Ok(t))) => Some((r, t)),
            Some((_, Err(e))) => return Err(e),
            None => None,
        };
        let assessment = compliance::assess(
            &report,
            &text,
            before.as_ref().map(|(r, t)| (r, t.as_str())),
            &profile,
        );
        Ok(compliance::render::to_proto(
            &assessment,
            before.as_ref().map_or("", |(r, _)| r.id.as_str()),
        ))
    })
    .await
    // A panic in the assessment: answered as the parser's would be (INTERNAL).
    .map_err(|_| ServiceError::Ingest(crate::ingest::IngestError::ParserPanic))?
}
