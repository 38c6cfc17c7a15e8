//! [`Client`]: the per-caller state every command runs with — a network connection, the
//! embedded Python store, AOF replay or a script all have one.

/// RESP protocol version a client speaks.
pub type Proto = u8;

/// CLIENT REPLY mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    Skip,
}

/// Per-caller state.
#[derive(Debug)]
pub struct Client {
    pub id: u64,
    /// Selected database.
    pub db: usize,
    /// 2 or 3 (HELLO).
    pub proto: Proto,
    pub name: Option<Vec<u8>>,
    pub reply_mode: ReplyMode,
    /// Set by QUIT: the connection closes after this reply is written.
    pub close_after_reply: bool,
}

impl Client {
    pub fn new(id: u64) -> Self {
        Client {
            id,
            db: 0,
            proto: 2,
            name: None,
            reply_mode: ReplyMode::On,
            close_after_reply: false,
        }
    }

    pub fn resp3(&self) -> bool {
        self.proto >= 3
    }
}
