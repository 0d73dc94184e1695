//! Sealing a long body on two cores: a helper thread encrypts one batch of
//! chunks while this thread writes the batch before it, reads the batch
//! after it and hashes that one (BLAKE3 of the plaintext pieces, which the
//! trailer signs). The reader and writer stay on the caller's thread (they
//! need not be `Send`); only the encryption moves. The bytes are those of
//! the one-core path.
//!
//! A batch is [`BATCH`] chunks, each stored as it is written out (plaintext,
//! sealed in place, then its tag), so a batch goes out in one write. Memory:
//! three batches (3 MiB), whatever the body's length. One helper thread
//! serves the whole body, batches going to it and back over channels.

use std::io::{self, IoSliceMut, Read, Write};
use std::sync::mpsc;

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

    /// Reads up to a batch of chunks, all of them in one vectored read where
    /// the reader supports it; returns the bytes read.
    fn fill<R: Read>(&mut self, r: &mut R) -> io::Result<u64> {
        let mut slices: Vec<IoSliceMut<'_>> = self
            .buf
            .chunks_exact_mut(ENC_CHUNK)
            .map(|c| IoSliceMut::new(&mut c[..CHUNK]))
            .collect();
        let mut bufs = &mut slices[..];
        let mut total = 0usize;
        while !bufs.is_empty() {
            match r.read_vectored(bufs) {
                Ok(0) => break,
                Ok(n) => {
                    total += n;
                    IoSliceMut::advance_slices(&mut bufs, n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.full = total / CHUNK;
        self.rest = total % CHUNK;
        Ok(total as u64)
    }

    /// Whether the reader may have more after this batch.
    fn more(&self) -> bool {
        self.full == BATCH
    }

    /// Hashes each full chunk's plaintext (before [`seal`](Self::seal)).
    fn hash(&mut self) {
        self.hashes.clear();
        for chunk in self.buf.chunks_exact(ENC_CHUNK).take(self.full) {
            self.hashes.push(trailer::piece_hash(&chunk[..CHUNK]));
        }
    }

    /// Seals each full chunk in place as middle chunks `first..`, each tag
    /// after its chunk. [`hash`](Self::hash) came first.
    fn seal(&mut self, cipher: &ChunkCipher, first: u64) {
        for (j, chunk) in self
            .buf
            .chunks_exact_mut(ENC_CHUNK)
            .take(self.full)
            .enumerate()
        {
            let (plain, tag) = chunk.split_at_mut(CHUNK);
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

/// Seals the rest of the body from `r` into `out`, the engine at a chunk
/// boundary; the bytes after the last full chunk go back into the engine.
/// Returns the body bytes read, or `None` when no helper thread could be
/// started (nothing was read; the caller goes on on one thread). The engine
/// accounts for every chunk it sealed, also when an error cuts the body
/// short, so no chunk index is ever sealed twice.
pub(super) fn copy<R: Read, W: Write>(
    engine: &mut PayloadSealer<'_>,
    r: &mut R,
    out: &mut W,
) -> io::Result<Option<u64>> {
    let (cipher, first) = engine.cipher_at();
    // Chunk hashes of every sealed batch, and where the chunk count stands.
    let mut hashes = Vec::new();
    let mut index = first;
    let result: io::Result<Option<(u64, Batch)>> = std::thread::scope(|s| {
        // One helper for the whole body: it takes a read and hashed batch and
        // the index of its first chunk, seals it and hands it back.
        let (to_helper, jobs) = mpsc::channel::<(Batch, u64)>();
        let (to_main, sealed) = mpsc::channel::<Batch>();
        let helper = std::thread::Builder::new()
            .name("sealcam-seal".into())
            .spawn_scoped(s, move || {
                for (mut batch, index) in jobs {
                    batch.seal(cipher, index);
                    if to_main.send(batch).is_err() {
                        return;
                    }
                }
            });
        if helper.is_err() {
            return Ok(None);
        }
        let stopped = || io::Error::other("the sealing thread stopped");
        // `cur` is sealed on the helper while `prev` (sealed) is written and
        // `next` is read and hashed.
        let (mut prev, mut next) = (Batch::new(), Batch::new());
        let mut cur = Batch::new();
        let mut total = cur.fill(r)?;
        cur.hash();
        loop {
            let more = cur.more();
            let full = cur.full as u64;
            to_helper.send((cur, index)).map_err(|_| stopped())?;
            // From here these indices are sealed, whatever happens next.
            index += full;
            let io = out.write_all(prev.sealed()).and_then(|()| {
                if more {
                    total += next.fill(r)?;
                    next.hash();
                }
                Ok(())
            });
            // A helper that panicked drops its end: the scope re-raises it.
            let done = sealed.recv().map_err(|_| stopped())?;
            hashes.extend_from_slice(&done.hashes);
            io?;
            if !more {
                out.write_all(done.sealed())?;
                return Ok(Some((total, done)));
            }
            // The sealed batch is written next time; the written one is
            // read into; the read one is sealed.
            let written = std::mem::replace(&mut prev, done);
            cur = std::mem::replace(&mut next, written);
        }
    });
    // Every chunk index sealed is spent, written or not. A batch sent to the
    // helper whose hashes never came back still moved `index` on.
    engine.sealed_outside(&hashes);
    engine.skip_to(index);
    let Some((total, last)) = result? else {
        return Ok(None);
    };
    engine.refill(last.remainder());
    Ok(Some(total))
}
