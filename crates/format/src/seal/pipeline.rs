//! Sealing a long body on two cores: a helper thread encrypts one batch of
//! chunks while this thread writes the batch before it, reads the batch
//! after it and hashes its first chunks (BLAKE3 of the plaintext pieces,
//! which the trailer signs). The helper hashes the rest before it encrypts.
//! The reader and writer stay on the caller's thread (they need not be
//! `Send`). The bytes are those of the one-core path.
//!
//! How many chunks of a batch the caller hashes balances the two threads,
//! batch by batch: when the helper's batch is back before the caller asks
//! for it, the caller was the slower and hashes one chunk fewer next time;
//! when the caller has to wait, one more. Reading and writing cost very
//! different amounts on different machines (a tmpfs write charges memory
//! cgroups, a page-cache read does not), so no fixed split suits them all.
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

    /// Hashes the plaintext of the first `n` full chunks (before
    /// [`seal`](Self::seal)); [`hash_rest`](Self::hash_rest) does the others.
    fn hash_first(&mut self, n: usize) {
        self.hashes.clear();
        self.hash_to(n);
    }

    /// Hashes the full chunks [`hash_first`](Self::hash_first) left.
    fn hash_rest(&mut self) {
        self.hash_to(self.full);
    }

    /// Hashes the full chunks after those hashed already, up to chunk `n`.
    fn hash_to(&mut self, n: usize) {
        let done = self.hashes.len();
        for chunk in self
            .buf
            .chunks_exact(ENC_CHUNK)
            .take(self.full.min(n))
            .skip(done)
        {
            self.hashes.push(trailer::piece_hash(&chunk[..CHUNK]));
        }
    }

    /// Seals each full chunk in place as middle chunks `first..`, each tag
    /// after its chunk. Every chunk was hashed first.
    fn seal(&mut self, cipher: &ChunkCipher, first: u64) {
        debug_assert_eq!(self.hashes.len(), self.full, "a chunk sealed unhashed");
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
        // One helper for the whole body: it takes a read batch, partly
        // hashed, and the index of its first chunk, hashes the rest, seals
        // it and hands it back.
        let (to_helper, jobs) = mpsc::channel::<(Batch, u64)>();
        let (to_main, sealed) = mpsc::channel::<Batch>();
        let helper = std::thread::Builder::new()
            .name("sealcam-seal".into())
            .spawn_scoped(s, move || {
                for (mut batch, index) in jobs {
                    batch.hash_rest();
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
        // `next` is read and its first `split` chunks hashed.
        let (mut prev, mut next) = (Batch::new(), Batch::new());
        let mut cur = Batch::new();
        let mut split = BATCH / 2;
        let mut total = cur.fill(r)?;
        cur.hash_first(split);
        loop {
            let more = cur.more();
            let full = cur.full as u64;
            to_helper.send((cur, index)).map_err(|_| stopped())?;
            // From here these indices are sealed, whatever happens next.
            index += full;
            let io = out.write_all(prev.sealed()).and_then(|()| {
                if more {
                    total += next.fill(r)?;
                    next.hash_first(split);
                }
                Ok(())
            });
            // Back already: this thread is the slower, so it hashes less
            // next time; not yet: more. (A helper that panicked drops its
            // end: the scope re-raises it.)
            let done = match sealed.try_recv() {
                Ok(done) => {
                    split = split.saturating_sub(1);
                    done
                }
                Err(mpsc::TryRecvError::Empty) => {
                    split = (split + 1).min(BATCH);
                    sealed.recv().map_err(|_| stopped())?
                }
                Err(mpsc::TryRecvError::Disconnected) => return Err(stopped()),
            };
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

#[cfg(test)]
mod tests {
    use super::*;

    /// However the hashing of a batch is split between the two threads,
    /// every chunk is hashed once, in order, short batches included.
    #[test]
    fn every_split_hashes_each_chunk_once_in_order() {
        let body: Vec<u8> = (0..(BATCH * CHUNK + 100) as u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for len in [0, 100, CHUNK, 3 * CHUNK + 7, BATCH * CHUNK + 100] {
            let want: Vec<[u8; 32]> = body[..len]
                .chunks_exact(CHUNK)
                .take(BATCH)
                .map(trailer::piece_hash)
                .collect();
            for split in 0..=BATCH + 1 {
                let mut batch = Batch::new();
                batch.fill(&mut &body[..len]).unwrap();
                batch.hash_first(split);
                assert_eq!(batch.hashes.len(), split.min(want.len()));
                batch.hash_rest();
                assert_eq!(batch.hashes, want, "{len} bytes, split {split}");
            }
        }
    }
}
