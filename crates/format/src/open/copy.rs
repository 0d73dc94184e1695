//! Copying a verified body out, on two cores where there are two: a helper
//! thread decrypts and verifies one batch of chunks while this thread
//! writes the batch before it and reads the batch after it. No byte of a
//! batch is written before every chunk of it verified, as the reader
//! releases nothing of a chunk before it verified.
//!
//! A batch is [`BATCH`] chunks read with one `read_exact_at`; memory is three
//! batches (about 3 MiB), whatever the body's length.

use std::io::{self, Write};
use std::ops::Range;

use super::reader::RangeSource;
use super::Opened;
use crate::OpenError;

/// Chunks per batch (1 MiB of body).
const BATCH: u64 = 16;

#[derive(Default)]
struct Batch {
    buf: Vec<u8>,
    chunks: Range<u64>,
    /// The body bytes of each opened chunk, as ranges of `buf`.
    bodies: Vec<Range<usize>>,
}

impl Batch {
    fn read<S: RangeSource>(
        &mut self,
        opened: &Opened,
        src: &mut S,
        chunks: Range<u64>,
    ) -> Result<(), OpenError> {
        let r = opened.ciphertext_range(chunks.clone());
        self.buf.resize((r.end - r.start) as usize, 0);
        self.bodies.clear();
        self.chunks = chunks;
        src.read_exact_at(r.start, &mut self.buf)
            .map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof => OpenError::Truncated("the source ended early"),
                _ => OpenError::Io(e),
            })
    }

    /// Decrypts and verifies every chunk; keeps the body bytes from body
    /// offset `from` on.
    fn open(&mut self, opened: &Opened, from: u64) -> Result<(), OpenError> {
        let base = opened.ciphertext_range(self.chunks.clone()).start;
        for index in self.chunks.clone() {
            let r = opened.ciphertext_range(index..index + 1);
            let at = (r.start - base) as usize;
            let chunk = &mut self.buf[at..(r.end - base) as usize];
            let (body, off) = opened.open_chunk(index, chunk)?;
            let skip = (from.saturating_sub(off) as usize).min(body.len());
            self.bodies.push(at + body.start + skip..at + body.end);
        }
        Ok(())
    }

    fn write<W: Write>(&self, out: &mut W) -> Result<u64, OpenError> {
        let mut n = 0;
        for b in &self.bodies {
            out.write_all(&self.buf[b.clone()]).map_err(OpenError::Io)?;
            n += b.len() as u64;
        }
        Ok(n)
    }
}

/// Writes the body from offset `from` to its end into `out`; returns the
/// bytes written, and the error that stopped it if one did (the bytes
/// written before it all verified).
pub(super) fn copy<S: RangeSource, W: Write>(
    opened: &Opened,
    src: &mut S,
    from: u64,
    out: &mut W,
) -> (u64, Result<(), OpenError>) {
    let mut written = 0;
    let result = copy_counting(opened, src, from, out, &mut written);
    (written, result)
}

fn copy_counting<S: RangeSource, W: Write>(
    opened: &Opened,
    src: &mut S,
    from: u64,
    out: &mut W,
    written: &mut u64,
) -> Result<(), OpenError> {
    let all = opened.chunks_for(from..opened.body_len());
    let mut batches = (all.start..all.end)
        .step_by(BATCH as usize)
        .map(|s| s..(s + BATCH).min(all.end));
    let Some(first) = batches.next() else {
        return Ok(());
    };
    let (mut prev, mut cur, mut next) = (Batch::default(), Batch::default(), Batch::default());
    cur.read(opened, src, first)?;
    let parallel = std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
    loop {
        let following = batches.next();
        let (opened_cur, io) = std::thread::scope(|s| {
            // The helper opens `cur` while this thread writes `prev` and
            // reads `next`; without a second core, or a thread, in turn.
            let helper = parallel
                .then(|| {
                    std::thread::Builder::new()
                        .name("sealcam-open".into())
                        .spawn_scoped(s, || cur.open(opened, from))
                        .ok()
                })
                .flatten();
            let io = prev.write(out).and_then(|n| {
                *written += n;
                if let Some(r) = following.clone() {
                    next.read(opened, src, r)?;
                }
                Ok(())
            });
            let opened_cur =
                helper.map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            (opened_cur, io)
        });
        io?;
        match opened_cur {
            Some(result) => result?,
            None => cur.open(opened, from)?,
        }
        if following.is_none() {
            *written += cur.write(out)?;
            return Ok(());
        }
        prev.bodies.clear();
        std::mem::swap(&mut prev, &mut cur);
        std::mem::swap(&mut cur, &mut next);
    }
}
