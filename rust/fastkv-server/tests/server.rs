//! Socket tests: raw RESP bytes in, exact bytes out, against a server on a free port.

use fastkv_core::{Config, Engine};
use fastkv_server::{spawn, ServerHandle};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn start() -> ServerHandle {
    let engine = Engine::new(Config::default());
    spawn(engine, "127.0.0.1", 0).expect("server starts")
}

fn connect(h: &ServerHandle) -> TcpStream {
    let s = TcpStream::connect(h.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    s
}

/// Reads exactly `n` bytes.
fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    s.read_exact(&mut buf).expect("read");
    buf
}

/// Sends `req` and expects exactly `want` back.
fn exchange(s: &mut TcpStream, req: &[u8], want: &[u8]) {
    s.write_all(req).expect("write");
    let got = read_n(s, want.len());
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(want),
        "reply to {:?}",
        String::from_utf8_lossy(req)
    );
}

/// True if the server closed the connection (EOF) within the read timeout.
fn closed(s: &mut TcpStream) -> bool {
    let mut b = [0u8; 1];
    matches!(s.read(&mut b), Ok(0)) || matches!(s.read(&mut b), Ok(0))
}

fn cmd(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

/// Reads one RESP2 line-or-bulk reply as text (enough for CLIENT ID/INFO).
fn read_reply(s: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        s.read_exact(&mut b).expect("read");
        line.push(b[0]);
    }
    let text = String::from_utf8_lossy(&line).into_owned();
    if let Some(len) = text.strip_prefix('$') {
        let n: usize = len.trim().parse().unwrap_or(0);
        let body = read_n(s, n + 2);
        return String::from_utf8_lossy(&body[..n]).into_owned();
    }
    text.trim_end().to_string()
}

#[test]
fn exact_replies_resp2_and_resp3() {
    let mut h = start();
    let mut s = connect(&h);
    exchange(&mut s, b"*1\r\n$4\r\nPING\r\n", b"+PONG\r\n");
    exchange(&mut s, b"PING\r\n", b"+PONG\r\n");
    exchange(
        &mut s,
        &cmd(&["CONFIG", "GET", "appendonly"]),
        b"*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n",
    );
    exchange(
        &mut s,
        &cmd(&["CLIENT", "FOO"]),
        b"-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n",
    );
    exchange(
        &mut s,
        &cmd(&["HELLO", "4"]),
        b"-NOPROTO unsupported protocol version\r\n",
    );
    let id = {
        s.write_all(&cmd(&["CLIENT", "ID"])).unwrap_or_default();
        read_reply(&mut s).trim_start_matches(':').to_string()
    };
    let hello = format!(
        "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n\
         $2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n\
         $7\r\nmodules\r\n*0\r\n"
    );
    exchange(&mut s, &cmd(&["HELLO", "3"]), hello.as_bytes());
    exchange(
        &mut s,
        &cmd(&["CONFIG", "GET", "save"]),
        b"%1\r\n$4\r\nsave\r\n$23\r\n3600 1 300 100 60 10000\r\n",
    );
    exchange(&mut s, &cmd(&["RESET"]), b"+RESET\r\n");
    exchange(
        &mut s,
        &cmd(&["CONFIG", "GET", "save"]),
        b"*2\r\n$4\r\nsave\r\n$23\r\n3600 1 300 100 60 10000\r\n",
    );
    exchange(&mut s, &cmd(&["QUIT"]), b"+OK\r\n");
    assert!(closed(&mut s));
    h.close();
}

#[test]
fn half_a_command_then_the_rest() {
    let mut h = start();
    let mut s = connect(&h);
    s.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhel")
        .unwrap_or_default();
    std::thread::sleep(Duration::from_millis(50));
    exchange(&mut s, b"lo\r\n", b"+OK\r\n");
    s.write_all(b"*2\r\n$3\r\nGET\r").unwrap_or_default();
    std::thread::sleep(Duration::from_millis(50));
    exchange(&mut s, b"\n$1\r\nk\r\n", b"$5\r\nhello\r\n");
    h.close();
}

#[test]
fn ten_thousand_pipelined_commands_in_one_write() {
    let mut h = start();
    let mut s = connect(&h);
    let one = cmd(&["INCR", "counter"]);
    let mut req = Vec::with_capacity(one.len() * 10_000);
    for _ in 0..10_000 {
        req.extend_from_slice(&one);
    }
    req.extend_from_slice(&cmd(&["GET", "counter"]));
    s.write_all(&req).unwrap_or_default();
    let mut want = Vec::new();
    for i in 1..=10_000 {
        want.extend_from_slice(format!(":{i}\r\n").as_bytes());
    }
    want.extend_from_slice(b"$5\r\n10000\r\n");
    let got = read_n(&mut s, want.len());
    assert!(got == want, "pipelined replies differ");
    h.close();
}

#[test]
fn malformed_input_closes_only_that_connection() {
    let mut h = start();
    let mut good = connect(&h);
    let mut bad = connect(&h);
    exchange(
        &mut bad,
        b"*1\r\n$x\r\n",
        b"-ERR Protocol error: invalid bulk length\r\n",
    );
    assert!(closed(&mut bad));
    let mut bad2 = connect(&h);
    exchange(
        &mut bad2,
        b"SET \"k v\n",
        b"-ERR Protocol error: unbalanced quotes in request\r\n",
    );
    assert!(closed(&mut bad2));
    exchange(&mut good, b"PING\r\n", b"+PONG\r\n");
    h.close();
}

#[test]
fn maxclients_refuses_the_extra_connection() {
    let mut h = start();
    let mut a = connect(&h);
    exchange(
        &mut a,
        &cmd(&["CONFIG", "SET", "maxclients", "2"]),
        b"+OK\r\n",
    );
    let mut b = connect(&h);
    exchange(&mut b, b"PING\r\n", b"+PONG\r\n");
    let mut c = connect(&h);
    let want = b"-ERR max number of clients reached\r\n";
    assert_eq!(read_n(&mut c, want.len()), want);
    assert!(closed(&mut c));
    drop(b);
    // Once a slot frees up, connections are accepted again.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut d = connect(&h);
        d.write_all(b"PING\r\n").unwrap_or_default();
        let mut buf = [0u8; 7];
        if d.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n" {
            break;
        }
        assert!(Instant::now() < deadline, "slot never freed");
        std::thread::sleep(Duration::from_millis(20));
    }
    h.close();
}

#[test]
fn client_kill_closes_an_idle_victim() {
    let mut h = start();
    let mut victim = connect(&h);
    victim
        .write_all(&cmd(&["CLIENT", "ID"]))
        .unwrap_or_default();
    let id = read_reply(&mut victim).trim_start_matches(':').to_string();
    victim
        .write_all(&cmd(&["CLIENT", "SETNAME", "victim"]))
        .unwrap_or_default();
    assert_eq!(read_reply(&mut victim), "+OK");
    let mut killer = connect(&h);
    killer
        .write_all(&cmd(&["CLIENT", "LIST"]))
        .unwrap_or_default();
    let list = read_reply(&mut killer);
    assert_eq!(list.lines().count(), 2, "{list}");
    assert!(
        list.contains(&format!("id={id} ")) && list.contains("name=victim"),
        "{list}"
    );
    let started = Instant::now();
    exchange(&mut killer, &cmd(&["CLIENT", "KILL", "ID", &id]), b":1\r\n");
    assert!(closed(&mut victim));
    assert!(started.elapsed() < Duration::from_secs(2));
    // Old form: by address.
    let mut v2 = connect(&h);
    let addr = v2.local_addr().map(|a| a.to_string()).unwrap_or_default();
    exchange(&mut v2, b"PING\r\n", b"+PONG\r\n");
    exchange(&mut killer, &cmd(&["CLIENT", "KILL", &addr]), b"+OK\r\n");
    assert!(closed(&mut v2));
    exchange(
        &mut killer,
        &cmd(&["CLIENT", "KILL", &addr]),
        b"-ERR No such client\r\n",
    );
    h.close();
}

#[test]
fn client_reply_off_and_skip() {
    let mut h = start();
    let mut s = connect(&h);
    let mut req = cmd(&["CLIENT", "REPLY", "OFF"]);
    req.extend(cmd(&["SET", "a", "1"]));
    req.extend(cmd(&["CLIENT", "REPLY", "ON"]));
    req.extend(cmd(&["GET", "a"]));
    req.extend(cmd(&["CLIENT", "REPLY", "SKIP"]));
    req.extend(cmd(&["GET", "a"]));
    req.extend(cmd(&["PING"]));
    exchange(&mut s, &req, b"+OK\r\n$1\r\n1\r\n+PONG\r\n");
    h.close();
}

#[test]
fn idle_timeout_closes_clients() {
    let mut h = start();
    // Connected before the timeout is set: CONFIG SET reaches idle connections too.
    let mut early = connect(&h);
    exchange(&mut early, b"PING\r\n", b"+PONG\r\n");
    let mut a = connect(&h);
    exchange(&mut a, &cmd(&["CONFIG", "SET", "timeout", "1"]), b"+OK\r\n");
    let started = Instant::now();
    let mut idle = connect(&h);
    assert!(closed(&mut early));
    assert!(closed(&mut idle));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(4),
        "{took:?}"
    );
    h.close();
}

#[test]
fn query_buffer_limit_closes_the_client() {
    let mut h = start();
    let mut s = connect(&h);
    exchange(
        &mut s,
        &cmd(&["CONFIG", "SET", "client-query-buffer-limit", "1mb"]),
        b"+OK\r\n",
    );
    s.write_all(b"*2\r\n$3\r\nGET\r\n$5000000\r\n")
        .unwrap_or_default();
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = 0;
    // Keep sending until the server hangs up (bounded: 4 MB).
    while sent < 4 * 1024 * 1024 {
        if s.write_all(&chunk).is_err() {
            break;
        }
        sent += chunk.len();
    }
    assert!(closed(&mut s) || sent < 4 * 1024 * 1024);
    let mut other = connect(&h);
    exchange(&mut other, b"PING\r\n", b"+PONG\r\n");
    h.close();
}

#[test]
fn shutdown_stops_the_server() {
    let mut h = start();
    let mut s = connect(&h);
    let mut other = connect(&h);
    exchange(&mut other, b"PING\r\n", b"+PONG\r\n");
    exchange(
        &mut s,
        &cmd(&["SHUTDOWN", "ABORT"]),
        b"-ERR No shutdown in progress.\r\n",
    );
    s.write_all(&cmd(&["SHUTDOWN", "NOSAVE"]))
        .unwrap_or_default();
    assert!(closed(&mut s), "no reply, connection closed");
    assert!(closed(&mut other), "every connection closed");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !h.is_finished() {
        assert!(Instant::now() < deadline, "server did not stop");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(TcpStream::connect(h.addr).is_err(), "listener closed");
    h.close();
}

#[test]
fn close_stops_accepting() {
    let mut h = start();
    let mut s = connect(&h);
    exchange(&mut s, b"PING\r\n", b"+PONG\r\n");
    h.close();
    assert!(closed(&mut s));
    assert!(TcpStream::connect(h.addr).is_err());
}

#[test]
fn command_line_errors_exit_1() {
    let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(fastkv_server::main_with_args(&args(&["--foo", "1"])), 1);
    assert_eq!(fastkv_server::main_with_args(&args(&["--hz", "abc"])), 1);
    assert_eq!(
        fastkv_server::main_with_args(&args(&["/nonexistent.conf"])),
        1
    );
    assert_eq!(
        fastkv_server::main_with_args(&args(&["--daemonize", "yes"])),
        1
    );
    assert_eq!(
        fastkv_server::main_with_args(&args(&["--unixsocket", "/tmp/x.sock"])),
        1
    );
    assert_eq!(
        fastkv_server::main_with_args(&args(&["--requirepass", "secret"])),
        1
    );
}

#[test]
fn binary_logs_and_exits_0_on_sigterm() {
    // A free port: bind, note, release.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0);
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_fastkv-server"))
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn fastkv-server");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut s = loop {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
            break s;
        }
        assert!(Instant::now() < deadline, "server never listened");
        std::thread::sleep(Duration::from_millis(20));
    };
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    exchange(&mut s, b"PING\r\n", b"+PONG\r\n");
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(killed.is_ok_and(|st| st.success()));
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    let log = String::from_utf8_lossy(&out.stdout);
    for needle in [
        ":M ",
        "# Server initialized",
        "* Ready to accept connections tcp",
        ":signal-handler (",
        "Received SIGTERM scheduling shutdown...",
        "# User requested shutdown...",
        "# Redis is now ready to exit, bye bye...",
    ] {
        assert!(log.contains(needle), "missing {needle:?} in:\n{log}");
    }
    assert!(closed(&mut s));
}

#[test]
fn slow_reader_gets_every_reply_in_order_and_stalls_only_itself() {
    // Replies are deferred to the end of the worker's turn; a reader that does not keep up
    // fills its socket, and the rest must still come, in order, while others are served.
    let mut h = start();
    let mut s = connect(&h);
    let value = "v".repeat(200_000);
    exchange(&mut s, &cmd(&["SET", "big", &value]), b"+OK\r\n");
    let get = cmd(&["GET", "big"]);
    // One write per GET: most arrive as batches of their own (deferred one by one); 40 of
    // them (8 MB) are more than the socket buffers hold, so the writes stall.
    for _ in 0..40 {
        s.write_all(&get).expect("write");
    }
    s.write_all(&cmd(&["PING"])).expect("write");
    let mut other = connect(&h);
    exchange(&mut other, &cmd(&["INCR", "n"]), b":1\r\n");
    let mut want = Vec::new();
    for _ in 0..40 {
        want.extend_from_slice(format!("${}\r\n{value}\r\n", value.len()).as_bytes());
    }
    want.extend_from_slice(b"+PONG\r\n");
    let got = read_n(&mut s, want.len());
    assert!(got == want, "replies to a slow reader differ");
    exchange(&mut other, &cmd(&["INCR", "n"]), b":2\r\n");
    h.close();
}
