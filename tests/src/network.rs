//! The network between a camera and the server, as a TCP proxy on
//! `127.0.0.1:0` that can go down or cut connections part-way: what the
//! device SDK's spool is for. (The HTTP [`crate::proxy::Proxy`] plays a
//! server that answers wrongly; this plays a network that does not answer.)

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// What the network does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// Forward to the server.
    Up = 0,
    /// Accept and close at once (the server looks unreachable).
    Down = 1,
    /// Forward, but cut each connection after [`Network::cut_after`] bytes from the camera.
    Cut = 2,
}

/// A TCP proxy in front of the server.
#[derive(Debug)]
pub struct Network {
    addr: SocketAddr,
    mode: Arc<AtomicU8>,
    live: Arc<Mutex<Vec<TcpStream>>>,
    cut_after: Arc<AtomicU64>,
    /// Connections accepted so far.
    pub connections: Arc<AtomicU64>,
}

impl Network {
    /// Starts forwarding to `upstream` (mode [`Mode::Up`]).
    pub fn start(upstream: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let mode = Arc::new(AtomicU8::new(Mode::Up as u8));
        let cut_after = Arc::new(AtomicU64::new(u64::MAX));
        let connections = Arc::new(AtomicU64::new(0));
        let live = Arc::new(Mutex::new(Vec::new()));
        let (m, c, n, l) = (
            mode.clone(),
            cut_after.clone(),
            connections.clone(),
            live.clone(),
        );
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(client) = conn else { continue };
                n.fetch_add(1, Ordering::SeqCst);
                match m.load(Ordering::SeqCst) {
                    1 => {
                        let _ = client.shutdown(Shutdown::Both);
                    }
                    mode => {
                        let limit = if mode == 2 {
                            c.load(Ordering::SeqCst)
                        } else {
                            u64::MAX
                        };
                        let Ok(server) = TcpStream::connect(upstream) else {
                            continue;
                        };
                        if let (Ok(kept), Ok(mut live)) = (client.try_clone(), l.lock()) {
                            live.push(kept);
                        }
                        pump(client, server, limit);
                    }
                }
            }
        });
        Ok(Self {
            addr,
            mode,
            live,
            cut_after,
            connections,
        })
    }

    /// The URL cameras use to reach the server through this network.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Switches the mode; connections open so far are broken (an outage
    /// breaks them too), so every later request sees the new mode.
    pub fn set(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
        if let Ok(mut live) = self.live.lock() {
            for conn in live.drain(..) {
                let _ = conn.shutdown(Shutdown::Both);
            }
        }
    }

    /// Cuts every connection after `bytes` from the camera (mode [`Mode::Cut`]).
    pub fn cut_after(&self, bytes: u64) {
        self.cut_after.store(bytes, Ordering::SeqCst);
        self.set(Mode::Cut);
    }
}

fn pump(client: TcpStream, server: TcpStream, limit: u64) {
    let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    thread::spawn(move || copy_limited(client, server, limit));
    thread::spawn(move || copy_limited(s2, c2, u64::MAX));
}

fn copy_limited(mut from: TcpStream, mut to: TcpStream, limit: u64) {
    let mut buf = [0u8; 16 * 1024];
    let mut total = 0u64;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        total += n as u64;
        if total > limit {
            break;
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
