//! The client side: the commands that talk to a running server over gRPC, each part one
//! command. They reach the server one way ([`channel`]: scheme, TLS, bearer token); none
//! opens a store but `restore`, through [`crate::store::backup`], and what a backup looks
//! like on disk is [`crate::backup`]'s business.
//!
//! - [`upload`]: `nianbao upload`, the bulk uploader: the files it chooses by their bytes
//!   ([`upload::files`]), its journal, and the sidecar manifest of URLs and publication dates
//!   ([`upload::manifest`]).
//! - [`query`]: `nianbao query`, the analyst's questions, printed by [`table`].
//! - [`export`]: `nianbao export`, a server's Export stream into Parquet, CSV or JSON lines.
//! - [`backup`]: `nianbao backup` (a server's reports into a backup directory) and `nianbao
//!   restore` (a backup into a new data directory).

pub mod backup;
pub mod channel;
pub mod export;
pub mod query;
pub mod table;
pub mod upload;
