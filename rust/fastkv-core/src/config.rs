//! Configuration directives (redis.conf syntax, CONFIG GET/SET).

/// The engine's settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub databases: usize,
    /// Active-expiry cycles per second.
    pub hz: u32,
    pub proto_max_bulk_len: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            databases: 16,
            hz: 10,
            proto_max_bulk_len: fastkv_resp::request::DEFAULT_MAX_BULK_LEN,
        }
    }
}
