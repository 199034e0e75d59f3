//! The generated protobuf messages (package `nianbao.v1`): [`Report`] is the field catalogue.
#![allow(clippy::all, missing_docs)]

include!(concat!(env!("OUT_DIR"), "/nianbao.v1.rs"));

/// The encoded FileDescriptorSet of every proto (for reflection and JSON).
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/nianbao_descriptor.bin"));
