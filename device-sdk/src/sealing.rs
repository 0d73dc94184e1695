//! A pull-based sealer: a `Read` that yields `header ‖ payload` as it reads
//! and seals the media, so an upload body, a spool file or a C caller can
//! pull sealed bytes with constant memory (two 64 KiB buffers plus 32 bytes
//! per 64 KiB of media for the signed hash list).

use std::io::{self, Read};

use sealcam_format::{PayloadSealer, Sealer};

enum Phase {
    Header,
    Body,
    Done,
}

/// Yields the sealed object (`header ‖ payload`) of everything `source` yields.
pub struct SealingReader<'k, R> {
    header: Vec<u8>,
    engine: Option<PayloadSealer<'k>>,
    source: R,
    phase: Phase,
    /// Sealed bytes ready to hand out, and how many were handed out.
    out: Vec<u8>,
    out_pos: usize,
    body_len: u64,
    sealed_len: u64,
    source_error: Option<io::ErrorKind>,
}

impl<'k, R: Read> SealingReader<'k, R> {
    /// Starts sealing `source` with `sealer`.
    pub fn new(sealer: Sealer<'k>, source: R) -> Self {
        let header = sealer.header().to_vec();
        let engine = sealer.into_engine();
        let mut out = Vec::with_capacity(64 * 1024 + 16);
        out.extend_from_slice(engine.nonce());
        Self {
            header,
            engine: Some(engine),
            source,
            phase: Phase::Header,
            out,
            out_pos: 0,
            body_len: 0,
            sealed_len: 0,
            source_error: None,
        }
    }

    /// The length of the age header at the start of the output.
    pub fn header_len(&self) -> u64 {
        self.header.len() as u64
    }

    /// Media bytes read from the source so far.
    pub fn body_len(&self) -> u64 {
        self.body_len
    }

    /// Sealed bytes handed out so far.
    pub fn sealed_len(&self) -> u64 {
        self.sealed_len
    }

    /// The kind of error the *source* failed with, if it did (as opposed to
    /// the consumer of the sealed bytes).
    pub fn source_error(&self) -> Option<io::ErrorKind> {
        self.source_error
    }

    /// Refills `out` with the next sealed bytes; `false` at the end.
    fn refill(&mut self) -> io::Result<bool> {
        self.out.clear();
        self.out_pos = 0;
        let Some(engine) = self.engine.as_mut() else {
            return Ok(false);
        };
        loop {
            if let Some(ct) = engine.seal_full() {
                self.out.extend_from_slice(ct);
                return Ok(true);
            }
            let n = match self.source.read(engine.spare()) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.source_error = Some(e.kind());
                    return Err(e);
                }
            };
            if n == 0 {
                break;
            }
            engine.advance(n);
            self.body_len += n as u64;
        }
        // The padding, one chunk at a time (constant memory), then the end.
        if let Some(ct) = engine.pad_chunk() {
            self.out.extend_from_slice(ct);
            return Ok(true);
        }
        // `engine` is Some: checked above and not taken since.
        if let Some(engine) = self.engine.take() {
            self.out = engine.finish();
        }
        Ok(true)
    }
}

impl<R: Read> Read for SealingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match self.phase {
                Phase::Header => {
                    let pos = self.sealed_len as usize;
                    if pos < self.header.len() {
                        let n = buf.len().min(self.header.len() - pos);
                        buf[..n].copy_from_slice(&self.header[pos..pos + n]);
                        self.sealed_len += n as u64;
                        return Ok(n);
                    }
                    self.phase = Phase::Body;
                }
                Phase::Body => {
                    if self.out_pos < self.out.len() {
                        let n = buf.len().min(self.out.len() - self.out_pos);
                        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
                        self.out_pos += n;
                        self.sealed_len += n as u64;
                        return Ok(n);
                    }
                    if !self.refill()? {
                        self.phase = Phase::Done;
                    }
                }
                Phase::Done => return Ok(0),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use sealcam_format::{open_to_vec, Binding, ObjectMeta, PartKind};
    use sealcam_keys::*;

    use super::SealingReader;

    #[test]
    fn pulls_an_object_that_opens_for_every_size_and_read_size() {
        let owner_key = OwnerSigningKey::generate();
        let (owner, camera) = (OwnerId::random(), CameraId::random());
        let viewer = ViewerIdentity::generate();
        let pin = RecipientSetPin {
            owner,
            camera,
            owner_key: owner_key.public(),
        };
        let set = RecipientSet::new(owner, camera, 3, vec![viewer.to_public()])
            .unwrap()
            .sign(&owner_key)
            .verify(&pin)
            .unwrap();
        let device = DeviceKey::generate();
        for (len, step) in [(0usize, 7usize), (1, 1), (65_536, 4096), (200_001, 65_552)] {
            let body: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let binding = Binding {
                owner,
                camera,
                event: EventId::now_v7(),
                kind: PartKind::Clip,
                sequence: 0,
            };
            let meta = ObjectMeta {
                binding,
                captured_at_ms: 1,
                epoch: 0,
                followed: None,
                content_type: "video/mp4".into(),
            };
            let sealer = sealcam_format::Sealer::new(&set, &device, meta).unwrap();
            let mut r = SealingReader::new(sealer, &body[..]);
            let header_len = r.header_len() as usize;
            let mut sealed = Vec::new();
            let mut buf = vec![0u8; step];
            loop {
                let n = r.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                sealed.extend_from_slice(&buf[..n]);
            }
            assert_eq!(r.body_len(), len as u64);
            assert_eq!(r.sealed_len(), sealed.len() as u64);
            let (h, p) = sealed.split_at(header_len);
            let opened = open_to_vec(h, p, &[&viewer], &binding, &device.public()).unwrap();
            assert_eq!(opened.body, body);
            assert_eq!(opened.meta.epoch, 3);
        }
    }
}
