//! Test helpers: run commands like a redis-cli session.

use crate::{Client, Config, Engine, Frame};
use std::sync::Arc;

/// An engine and one client.
pub struct Session {
    pub engine: Arc<Engine>,
    pub client: Client,
}

impl Session {
    pub fn new() -> Self {
        let engine = Engine::new(Config::default());
        let client = engine.new_client();
        Session { engine, client }
    }

    /// Runs one command: `s.run(&["SET", "k", "v"])`.
    pub fn run(&mut self, argv: &[&str]) -> Frame {
        let args: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
        self.engine.execute(&mut self.client, &args)
    }
}

/// Shorthands for expected replies.
pub fn bulk(s: &str) -> Frame {
    Frame::Bulk(s.as_bytes().to_vec())
}

#[allow(dead_code)]
pub fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

pub fn err(s: &str) -> Frame {
    Frame::Error(s.to_string().into())
}
