//! One client connection: read, parse every complete command, execute, write once.

use fastkv_core::Engine;
use fastkv_resp::{encode, parse_request, Frame, Limits, Parsed};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// Initial read buffer; grows as a request needs.
const READ_CHUNK: usize = 16 * 1024;

pub async fn run(engine: Arc<Engine>, mut sock: TcpStream, mut stop: watch::Receiver<bool>) {
    let mut client = engine.new_client();
    let limits = Limits {
        max_bulk_len: engine.config.read().proto_max_bulk_len,
    };
    let mut inbuf: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut out: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut start = 0usize;
    loop {
        if inbuf.capacity() - inbuf.len() < READ_CHUNK / 2 {
            inbuf.reserve(READ_CHUNK);
        }
        let n = tokio::select! {
            _ = stop.changed() => return,
            r = sock.read_buf(&mut inbuf) => match r { Ok(0) | Err(_) => return, Ok(n) => n },
        };
        let _ = n;
        let mut close = false;
        loop {
            match parse_request(&inbuf[start..], &limits) {
                Ok(Parsed::Incomplete) => break,
                Ok(Parsed::Command { args, consumed }) => {
                    if !args.is_empty() {
                        let reply = engine.execute(&mut client, &args);
                        encode(&reply, client.resp3(), &mut out);
                    }
                    start += consumed;
                }
                Ok(Parsed::Inline { args, consumed }) => {
                    if !args.is_empty() {
                        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
                        let reply = engine.execute(&mut client, &refs);
                        encode(&reply, client.resp3(), &mut out);
                    }
                    start += consumed;
                }
                Err(e) => {
                    encode(&Frame::error(format!("ERR {e}")), client.resp3(), &mut out);
                    close = true;
                    break;
                }
            }
            if client.close_after_reply {
                close = true;
                break;
            }
        }
        if start == inbuf.len() {
            inbuf.clear();
            start = 0;
        } else if start > inbuf.len() / 2 {
            inbuf.drain(..start);
            start = 0;
        }
        if !out.is_empty() {
            if sock.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
        if close {
            return;
        }
    }
}
