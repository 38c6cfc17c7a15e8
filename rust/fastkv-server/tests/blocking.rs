//! Blocking list commands over real sockets, several clients at once: FIFO serving, BLMOVE,
//! timeouts with millisecond precision, disconnects and CLIENT KILL leaving nothing behind,
//! the key named in the reply, and commands pipelined behind a blocked one.

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

/// Waits (bounded) until the engine has `n` blocked clients.
fn wait_blocked(engine: &Engine, n: usize) {
    let until = Instant::now() + Duration::from_secs(5);
    while engine.blocking.blocked_clients() != n {
        assert!(Instant::now() < until, "never reached {n} blocked clients");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Nothing is readable on `s` for a short while.
fn silent(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_millis(100))).ok();
    let mut b = [0u8; 1];
    let quiet = matches!(s.read(&mut b), Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut);
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    quiet
}

#[test]
fn three_blocked_clients_are_served_in_fifo_order() {
    let (engine, mut h) = start();
    let mut clients: Vec<TcpStream> = (0..3).map(|_| connect(&h)).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        send(c, &["BLPOP", "q", "0"]);
        wait_blocked(&engine, i + 1);
    }
    let mut w = connect(&h);
    send(&mut w, &["RPUSH", "q", "a", "b"]);
    expect(&mut w, b":2\r\n");
    expect(&mut clients[0], b"*2\r\n$1\r\nq\r\n$1\r\na\r\n");
    expect(&mut clients[1], b"*2\r\n$1\r\nq\r\n$1\r\nb\r\n");
    assert!(silent(&mut clients[2]));
    assert_eq!(engine.blocking.blocked_clients(), 1);
    send(&mut w, &["LPUSH", "q", "c"]);
    expect(&mut w, b":1\r\n");
    expect(&mut clients[2], b"*2\r\n$1\r\nq\r\n$1\r\nc\r\n");
    send(&mut w, &["EXISTS", "q"]);
    expect(&mut w, b":0\r\n");
    h.close();
}

#[test]
fn blmove_and_a_push_to_one_of_two_keys() {
    let (engine, mut h) = start();
    let mut mover = connect(&h);
    let mut popper = connect(&h);
    send(&mut mover, &["BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"]);
    wait_blocked(&engine, 1);
    // Waits on two keys; the push to `dst` (BLMOVE's destination) wakes it with that name.
    send(&mut popper, &["BRPOP", "other", "dst", "0"]);
    wait_blocked(&engine, 2);
    let mut w = connect(&h);
    send(&mut w, &["RPUSH", "src", "x"]);
    expect(&mut w, b":1\r\n");
    expect(&mut mover, b"$1\r\nx\r\n");
    expect(&mut popper, b"*2\r\n$3\r\ndst\r\n$1\r\nx\r\n");
    assert_eq!(engine.blocking.blocked_clients(), 0);
    // RESP3: the timeout reply is a null.
    send(&mut w, &["HELLO", "3"]);
    let mut buf = [0u8; 512];
    let _ = w.read(&mut buf).expect("hello");
    send(&mut w, &["BLMOVE", "src", "dst", "LEFT", "LEFT", "0.01"]);
    expect(&mut w, b"_\r\n");
    h.close();
}

#[test]
fn timeout_has_millisecond_precision() {
    let (engine, mut h) = start();
    let mut c = connect(&h);
    for (timeout, ms) in [("0.15", 150u128), ("0.03", 30)] {
        let t0 = Instant::now();
        send(&mut c, &["BLPOP", "none", timeout]);
        expect(&mut c, b"*-1\r\n");
        let took = t0.elapsed().as_millis();
        assert!(took >= ms && took < ms + 80, "{timeout}s took {took} ms");
    }
    assert_eq!(engine.blocking.blocked_clients(), 0);
    send(&mut c, &["BLPOP", "none", "-1"]);
    expect(&mut c, b"-ERR timeout is negative\r\n");
    h.close();
}

#[test]
fn a_disconnecting_or_killed_blocked_client_leaves_nothing_behind() {
    let (engine, mut h) = start();
    let mut w = connect(&h);
    {
        let mut gone = connect(&h);
        send(&mut gone, &["BLPOP", "q", "0"]);
        wait_blocked(&engine, 1);
    } // closed here
    wait_blocked(&engine, 0);
    // CLIENT KILL of a blocked client.
    let mut victim = connect(&h);
    send(&mut victim, &["CLIENT", "ID"]);
    let mut buf = [0u8; 64];
    let n = victim.read(&mut buf).expect("id");
    let id = String::from_utf8_lossy(&buf[1..n]).trim().to_string();
    send(&mut victim, &["BRPOP", "q", "0"]);
    wait_blocked(&engine, 1);
    send(&mut w, &["CLIENT", "KILL", "ID", &id]);
    expect(&mut w, b":1\r\n");
    wait_blocked(&engine, 0);
    // The push finds no waiter: the element stays.
    send(&mut w, &["RPUSH", "q", "v"]);
    expect(&mut w, b":1\r\n");
    send(&mut w, &["LLEN", "q"]);
    expect(&mut w, b":1\r\n");
    send(&mut w, &["INFO", "clients"]);
    let mut info = vec![0u8; 4096];
    let n = w.read(&mut info).expect("info");
    assert!(String::from_utf8_lossy(&info[..n]).contains("blocked_clients:0"));
    h.close();
}

#[test]
fn commands_pipelined_behind_a_blocked_one_wait_for_it() {
    let (engine, mut h) = start();
    let mut c = connect(&h);
    let mut pipeline = cmd(&["BLPOP", "q", "0"]);
    pipeline.extend(cmd(&["PING"]));
    c.write_all(&pipeline).expect("write");
    wait_blocked(&engine, 1);
    assert!(silent(&mut c));
    let mut w = connect(&h);
    send(&mut w, &["RPUSH", "q", "v"]);
    expect(&mut w, b":1\r\n");
    expect(&mut c, b"*2\r\n$1\r\nq\r\n$1\r\nv\r\n+PONG\r\n");
    h.close();
}
