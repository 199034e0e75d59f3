//! A stored report's compliance (GetReport's `include_compliance`, the report card). Under
//! the default profile, the basis stored at ingest is finished beside the year before's,
//! as the store scores reports for rankings. Under another profile (or for a report stored
//! without a basis), its text and its body's report of the year before come from the
//! store, are read with the server's one reader on the blocking pool, then
//! [`crate::compliance::assess`] scores them.

use crate::compliance::{self, Profile};
use crate::index::Other;
use crate::pb::{Compliance, Report};
use crate::place::body_key;
use crate::store::Store;
use crate::Reader;

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
/// body's counted report of the year before when one is stored, and the other body's
/// report of the year the store found alike (its search is the default profile's).
pub(super) async fn compliance(
    store: &Store,
    reader: &Reader,
    id: &str,
    report: Report,
    profile: Profile,
) -> Result<Compliance, ServiceError> {
    let (previous, other) = {
        let index = store.index();
        let previous = body_key(&report)
            .and_then(|(agency, year)| index.latest_id(&agency, year - 1))
            .filter(|p| p != id);
        let other = match index.row_of(id).map(|r| index.other(r)) {
            None | Some(Other::NotSearched) => None,
            Some(Other::NoneFound) => Some(None),
            Some(Other::Found(o)) => Some(Some(index.id(o))),
        };
        (previous, other)
    };
    let store = store.clone();
    let reader = reader.clone();
    let id = id.to_owned();
    tokio::task::spawn_blocking(move || -> Result<Compliance, ServiceError> {
        let text_of = |id: &str| -> Result<String, ServiceError> {
            Ok(match store.document(id)? {
                Some((content, hints)) => reader.text(&content, &hints).unwrap_or_default(),
                None => String::new(),
            })
        };
        // Under the default profile the basis stored at ingest is finished as the store
        // finished it for rankings: the same score, without reading the document again.
        // Otherwise (or without a stored basis) the texts are read again.
        let stored = (profile.name == compliance::profile::DEFAULT_PROFILE)
            .then(|| store.basis(&id))
            .transpose()?
            .flatten();
        let from_stored = stored.is_some();
        let basis = match stored {
            Some(basis) => basis,
            None => compliance::Basis::of(&report, &text_of(&id)?, &profile),
        };
        // Another report compared with: its narrative from its stored basis, or from its
        // text when the basis is not used.
        let compared = |other: &str| -> Result<Option<(Report, Option<String>)>, ServiceError> {
            let Some(r) = store.get(other)? else {
                return Ok(None);
            };
            let narrative = match store.basis(other)? {
                Some(b) if from_stored || b.narrative.is_some() => b.narrative,
                _ => compliance::text::narrative(&text_of(other)?),
            };
            Ok(Some((r, narrative)))
        };
        let before = previous.as_deref().map(compared).transpose()?.flatten();
        let alike = match &other {
            Some(Some(o)) => compared(o)?,
            _ => None,
        };
        let others = match (&other, &alike) {
            (Some(Some(_)), Some(o)) => compliance::Others::Found(as_compared(o)),
            (Some(None), _) => compliance::Others::NoneFound,
            _ => compliance::Others::NotSearched,
        };
        let assessment = basis.finish(&report, before.as_ref().map(as_compared), others, &profile);
        Ok(compliance::render::to_proto(
            &assessment,
            before.as_ref().map_or("", |(r, _)| r.id.as_str()),
            alike.as_ref().map_or("", |(r, _)| r.id.as_str()),
        ))
    })
    .await
    // A panic in the assessment: answered as the parser's would be (INTERNAL).
    .map_err(|_| ServiceError::Ingest(crate::ingest::IngestError::ParserPanic))?
}

/// A report and its narrative as the indicators compare with it.
fn as_compared((report, narrative): &(Report, Option<String>)) -> compliance::Previous<'_> {
    compliance::Previous {
        report,
        narrative: narrative.as_deref(),
        shingles: None,
    }
}
