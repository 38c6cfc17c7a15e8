//! Pub/Sub over real sockets: pushes reach an idle subscriber at once (RESP2 arrays, RESP3
//! `>` pushes), a subscriber that stops reading is dropped at its output buffer limit while
//! the publisher goes on, and a disconnect leaves no subscription behind.

use fastkv_core::{Config, Engine};
use fastkv_server::{spawn, ServerHandle};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn start() -> (Arc<Engine>, ServerHandle) {
    let engine = Engine::new(Config::default());
    let h = spawn(engine.clone(), "127.0.0.1", 0).expect("server starts");
    (engine, h)
}

fn connect(h: &ServerHandle) -> TcpStream {
    let s = TcpStream::connect(h.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    s
}

fn cmd(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

fn send(s: &mut TcpStream, args: &[&str]) {
    s.write_all(&cmd(args)).expect("write");
}

/// Reads exactly `want.len()` bytes and compares.
fn expect(s: &mut TcpStream, want: &[u8]) {
    let mut buf = vec![0u8; want.len()];
    s.read_exact(&mut buf).expect("read");
    assert_eq!(String::from_utf8_lossy(&buf), String::from_utf8_lossy(want));
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(5);
    while !f() {
        assert!(Instant::now() < until, "never: {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn idle_subscribers_get_pushes_in_both_protocols() {
    let (engine, mut h) = start();
    let mut sub2 = connect(&h);
    let mut sub3 = connect(&h);
    send(&mut sub3, &["HELLO", "3"]);
    let mut hello = [0u8; 1];
    sub3.read_exact(&mut hello).expect("hello");
    // Skip the rest of the HELLO map: SUBSCRIBE's push follows it.
    send(&mut sub2, &["SUBSCRIBE", "ch"]);
    expect(&mut sub2, b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    send(&mut sub3, &["PSUBSCRIBE", "c*"]);
    let mut rest = Vec::new();
    let want = b">3\r\n$10\r\npsubscribe\r\n$2\r\nc*\r\n:1\r\n";
    while !rest.ends_with(want) {
        let mut b = [0u8; 1];
        sub3.read_exact(&mut b).expect("read");
        rest.push(b[0]);
    }
    let mut publisher = connect(&h);
    send(&mut publisher, &["PUBLISH", "ch", "hi"]);
    expect(&mut publisher, b":2\r\n");
    expect(
        &mut sub2,
        b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
    );
    expect(
        &mut sub3,
        b">4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$2\r\nhi\r\n",
    );
    assert_eq!(engine.publish(b"ch", b"x"), 2);
    expect(&mut sub2, b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nx\r\n");
    drop(sub2);
    drop(sub3);
    wait_until("subscribers gone", || engine.pubsub.is_idle());
    h.close();
}

#[test]
fn a_subscriber_that_does_not_read_is_dropped() {
    let (engine, mut h) = start();
    let mut admin = connect(&h);
    send(
        &mut admin,
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 256kb 0 0",
        ],
    );
    expect(&mut admin, b"+OK\r\n");
    let mut slow = connect(&h);
    send(&mut slow, &["SUBSCRIBE", "s"]);
    wait_until("subscribed", || engine.pubsub.numsub(false, b"s") == 1);
    let payload = vec![b'x'; 64 * 1024];
    let mut dropped = false;
    let started = Instant::now();
    // Kernel socket buffers take some megabytes before the server's sink fills.
    for _ in 0..2000 {
        if engine.publish(b"s", &payload) == 0 {
            dropped = true;
            break;
        }
    }
    assert!(dropped, "slow subscriber never dropped");
    assert!(started.elapsed() < Duration::from_secs(30));
    wait_until("unsubscribed", || engine.pubsub.is_idle());
    // The socket is closed once the bytes in flight are read.
    slow.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut sink = Vec::new();
    let _ = slow.read_to_end(&mut sink);
    h.close();
}
