//! A full RESP2/RESP3 reply decoder (for clients, replication and tests).
//!
//! Not written yet beyond this entry point; see the crate docs.
