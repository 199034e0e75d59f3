//! What a client says with a document: one shape, from the proto (or `parse`'s flags) to
//! the reader, the parser and the store. PURE.
//!
//! The service makes it once from a `Document`; the store keeps it as sent, in records and
//! backups; the reader gives its content type to the extractor (which reads from it the
//! kind, HTML or text, and an encoding: `extract::Request`) and the rest to the parser. The
//! text wins where it says otherwise.

/// What the client said about a document, as it said it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hints {
    /// Where it came from (a URL or a path), or empty.
    pub source: String,
    /// The agency, for documents that do not print it.
    pub agency: Option<String>,
    /// The report year, for documents that do not print it.
    pub year: Option<i32>,
    /// Empty, a MIME type or a kind's short name ("pdf", "html", ...), with an optional
    /// `; charset=` label; or, for text, a bare charset label such as "gbk" (the proto's
    /// `Document.content_type`).
    pub content_type: String,
    /// The publication date the client sent (YYYY-MM-DD), or empty.
    pub published: String,
    /// The page's URL the client sent, or empty.
    pub url: String,
}

impl Hints {
    /// The publication date the client sent, if any.
    pub fn published(&self) -> Option<&str> {
        Some(self.published.as_str()).filter(|s| !s.is_empty())
    }

    /// The page's URL the client sent, if any.
    pub fn url(&self) -> Option<&str> {
        Some(self.url.as_str()).filter(|s| !s.is_empty())
    }
}
