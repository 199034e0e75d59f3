//! The end-to-end tests: one crate, so the library is linked once for all of them (it was
//! 23 crates, each linking it). Each module is one concern; `common` holds the fixtures
//! (servers on port 0, each saying where it listens; the public documents of ../shared).
//! Run one module with `cargo test --release --test suite -- <module>::`.

mod common;

mod ambiguity;
mod auth;
mod backup;
mod binary;
mod corpus;
mod crash;
mod dates;
mod diskfull;
mod hostile;
mod interop;
mod layouts;
mod limits;
mod metrics;
mod national;
mod pipes;
mod places;
mod powerloss;
mod real;
mod robustness;
mod rows;
mod security;
mod service;
mod upload;
