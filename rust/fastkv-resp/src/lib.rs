//! The Redis wire protocol, and nothing else.
//!
//! Layout:
//! - [`frame`]: [`Frame`], RESP3's whole vocabulary of replies.
//! - [`encode`]: writes a frame into an output buffer, downgrading RESP3 types to RESP2 where
//!   the client speaks RESP2.
//! - [`request`]: the incremental request decoder used by servers: multibulk and inline
//!   commands, Redis's limits and Redis's protocol-error texts. Arguments are borrowed slices of
//!   the input buffer (zero copy).
//! - [`decode`]: a full RESP2/RESP3 reply decoder (clients, replication, tests).
//! - [`float`]: number formatting exactly as Redis prints doubles.
//!
//! This crate knows nothing about commands: it moves bytes to frames and back.

pub mod decode;
pub mod encode;
pub mod float;
pub mod frame;
pub mod request;

pub use decode::{decode, DecodeError};
pub use encode::encode;
pub use frame::{BulkArray, BulkIter, Frame};
pub use request::{parse_request, parse_request_into, Limits, Parsed, ParsedInto, ProtocolError};
