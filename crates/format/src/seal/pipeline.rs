//! Sealing a long body on two cores: a helper thread hashes and encrypts
//! one batch of chunks while this thread writes the batch before it and
//! reads the batch after it. The reader and writer stay on the caller's
//! thread (they need not be `Send`); only the cryptography moves. The bytes
//! are those of the one-core path.
//!
//! A batch is [`BATCH`] chunks, each stored as it is written out (plaintext,
//! sealed in place, then its tag), so a batch goes out in one write. Memory:
//! three batches (3 MiB), whatever the body's length.

use std::io::{self, Read, Write};

use super::PayloadSealer;
use crate::stream::{ChunkCipher, CHUNK, ENC_CHUNK, TAG};
use crate::trailer;

/// Chunks per batch: 1 MiB of body per step, so a thread start (tens of
/// microseconds) is small beside the step's work.
const BATCH: usize = 16;

/// Whether a second core is there to seal on.
pub(super) fn worth_it() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() > 1)
}

struct Batch {
    buf: Vec<u8>,
    /// Full chunks read.
    full: usize,
    /// Bytes of the chunk after them (the reader ended there).
    rest: usize,
    hashes: Vec<[u8; 32]>,
}

impl Batch {
    fn new() -> Self {
        Self {
            buf: vec![0u8; BATCH * ENC_CHUNK],
            full: 0,
            rest: 0,
            hashes: Vec::with_capacity(BATCH),
        }
    }

    /// Reads up to a batch of chunks; returns the bytes read.
    fn fill<R: Read>(&mut self, r: &mut R) -> io::Result<u64> {
        self.full = 0;
        self.rest = 0;
        let mut total = 0u64;
        while self.full < BATCH {
            let start = self.full * ENC_CHUNK;
            let n = read_full(r, &mut self.buf[start..start + CHUNK])?;
            total += n as u64;
            if n < CHUNK {
                self.rest = n;
                break;
            }
            self.full += 1;
        }
        Ok(total)
    }

    /// Whether the reader may have more after this batch.
    fn more(&self) -> bool {
        self.full == BATCH
    }

    /// Hashes and then seals each full chunk in place as middle chunks
    /// `first..`, each tag after its chunk.
    fn seal(&mut self, cipher: &ChunkCipher, first: u64) {
        self.hashes.clear();
        for (j, chunk) in self
            .buf
            .chunks_exact_mut(ENC_CHUNK)
            .take(self.full)
            .enumerate()
        {
            let (plain, tag) = chunk.split_at_mut(CHUNK);
            self.hashes.push(trailer::piece_hash(plain));
            tag[..TAG].copy_from_slice(&cipher.seal(first + j as u64, false, plain));
        }
    }

    /// The sealed chunks, as they are written out.
    fn sealed(&self) -> &[u8] {
        &self.buf[..self.full * ENC_CHUNK]
    }

    /// The body bytes after the full chunks.
    fn remainder(&self) -> &[u8] {
        let start = self.full * ENC_CHUNK;
        &self.buf[start..start + self.rest]
    }
}

fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Seals the rest of the body from `r` into `out`, the engine at a chunk
/// boundary; the bytes after the last full chunk go back into the engine.
/// Returns the body bytes read.
pub(super) fn copy<R: Read, W: Write>(
    engine: &mut PayloadSealer<'_>,
    r: &mut R,
    out: &mut W,
) -> io::Result<u64> {
    // `cur` is sealed on the helper while `prev` (sealed) is written and
    // `next` is read.
    let (mut prev, mut cur, mut next) = (Batch::new(), Batch::new(), Batch::new());
    let mut total = cur.fill(r)?;
    loop {
        let more = cur.more();
        let (cipher, first) = engine.cipher_at();
        let io = std::thread::scope(|s| {
            let helper = s.spawn(|| cur.seal(cipher, first));
            let io = (|| {
                out.write_all(prev.sealed())?;
                if more {
                    total += next.fill(r)?;
                }
                Ok::<_, io::Error>(())
            })();
            helper
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            io
        });
        io?;
        engine.sealed_outside(&cur.hashes);
        if !more {
            out.write_all(cur.sealed())?;
            engine.refill(cur.remainder());
            return Ok(total);
        }
        // The written batch is read into next time; the read one is sealed.
        prev.full = 0;
        std::mem::swap(&mut prev, &mut cur);
        std::mem::swap(&mut cur, &mut next);
    }
}
