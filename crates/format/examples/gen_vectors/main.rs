//! Generates the committed test vectors of the current object format (v3) in
//! `tests/vectors/v3/`. The version 1 vectors in `tests/vectors/v1/` were
//! made by release 247da5e's generator and are kept as they are: every
//! reader must still open version 1 objects.
//!
//! ```sh
//! cargo run -p sealcam-format --example gen_vectors -- crates/format/tests/vectors/v3
//! ```
//!
//! Every vector names the outcome a correct opener must give. Keys are fresh
//! on each run (age wraps with fresh ephemeral keys anyway), so regenerating
//! rewrites every file; the expectations do not change.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../tests/vector_file/mod.rs"]
mod vector_file;

#[path = "../../tests/forge/mod.rs"]
mod forge;

mod damage;
mod objects;
mod padding;
mod sets;

use std::path::{Path, PathBuf};

use sealcam_format::{Binding, FollowedKey, ObjectMeta, PartKind, Sealer};
use sealcam_keys::{
    CameraId, DeviceKey, EventId, OwnerId, OwnerSigningKey, ViewerIdentity, ViewerRecipient,
};
use sha2::{Digest, Sha256};
use vector_file::VectorFile;

/// The content type of the generator's objects, and the inner header length it gives.
pub(crate) const CONTENT_TYPE: &str = "video/mp4";
pub(crate) const INNER: usize = 129 + CONTENT_TYPE.len();
/// The owner key every object names as followed (tests/vectors.rs checks it).
pub(crate) const FOLLOWED: FollowedKey = FollowedKey {
    position: (1_764_000_000, 2),
    key: [0x5c; 32],
};

pub(crate) struct Gen {
    dir: PathBuf,
    pub(crate) owner_key: OwnerSigningKey,
    pub(crate) device: DeviceKey,
    pub(crate) viewer: ViewerIdentity,
    pub(crate) other_viewer: ViewerIdentity,
    pub(crate) binding: Binding,
    count: usize,
}

/// A body of `len` bytes with no zero byte at its end.
pub(crate) fn body(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8 + 1).collect()
}

impl Gen {
    fn meta(&self, binding: Binding) -> ObjectMeta {
        ObjectMeta {
            binding,
            captured_at_ms: 1_764_374_400_000,
            epoch: 4,
            followed: Some(FOLLOWED),
            content_type: CONTENT_TYPE.into(),
        }
    }

    /// Seals to `recipients` with `device`.
    pub(crate) fn seal_to(
        &self,
        recipients: &[ViewerRecipient],
        device: &DeviceKey,
        binding: Binding,
        body: &[u8],
    ) -> (Vec<u8>, Vec<u8>) {
        let sealer = Sealer::with_recipients(recipients, device, self.meta(binding)).unwrap();
        sealcam_format::seal(sealer, &mut &body[..], Vec::new()).unwrap()
    }

    /// Seals to the two viewers with `device`.
    pub(crate) fn seal_with(
        &self,
        device: &DeviceKey,
        binding: Binding,
        body: &[u8],
    ) -> (Vec<u8>, Vec<u8>) {
        let recipients = [self.viewer.to_public(), self.other_viewer.to_public()];
        self.seal_to(&recipients, device, binding, body)
    }

    /// Seals a clip to the two viewers with the camera's key.
    pub(crate) fn seal(&self, body: &[u8]) -> (Vec<u8>, Vec<u8>) {
        self.seal_with(&self.device, self.binding, body)
    }

    /// Writes an object vector asking for `asked` with `identity`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn object(
        &mut self,
        name: &str,
        expect: &str,
        comment: &str,
        header: &[u8],
        payload: &[u8],
        asked: Binding,
        identity: &ViewerIdentity,
        body: Option<&[u8]>,
    ) {
        let mut v = VectorFile::new();
        v.set("expect", expect)
            .set("comment", comment)
            .set("kind", "object")
            .set("identity", identity.to_secret_text().as_str())
            .set("device", self.device.public())
            .set("owner", asked.owner)
            .set("camera", asked.camera)
            .set("event", asked.event)
            .set("part", asked.kind)
            .set("sequence", asked.sequence)
            .set("header-len", header.len());
        if let Some(b) = body {
            v.set("body", hex::encode(Sha256::digest(b)));
        }
        v.data = [header, payload].concat();
        self.write(name, &v);
    }

    /// A vector the viewer must fail to open with `expect`.
    pub(crate) fn refused(
        &mut self,
        name: &str,
        expect: &str,
        comment: &str,
        header: &[u8],
        payload: &[u8],
    ) {
        let (b, me) = (self.binding, self.viewer.clone());
        self.object(name, expect, comment, header, payload, b, &me, None);
    }

    pub(crate) fn write(&mut self, name: &str, v: &VectorFile) {
        std::fs::write(self.dir.join(name), v.encode()).unwrap();
        self.count += 1;
    }

    /// What a co-recipient who knows the file key can do (see `tests/forge`).
    pub(crate) fn forge(
        &self,
        header: &[u8],
        payload: &[u8],
        edit: impl FnOnce(&mut Vec<u8>),
    ) -> Vec<u8> {
        forge::forge(header, payload, &self.viewer, edit)
    }

    /// What the camera itself can sign (see `tests/forge`).
    pub(crate) fn resign(
        &self,
        header: &[u8],
        payload: &[u8],
        edit: impl FnOnce(&mut Vec<u8>, &mut u64),
    ) -> Vec<u8> {
        forge::resign(header, payload, &self.viewer, &self.device, edit)
    }

    /// A binding of the same camera and event for another part kind.
    pub(crate) fn binding_of(&self, kind: PartKind) -> Binding {
        Binding {
            kind,
            ..self.binding
        }
    }
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/v3"));
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(&dir).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    let binding = Binding {
        owner: OwnerId::random(),
        camera: CameraId::random(),
        event: EventId::random(),
        kind: PartKind::Clip,
        sequence: 0,
    };
    let mut g = Gen {
        dir,
        owner_key: OwnerSigningKey::generate(),
        device: DeviceKey::generate(),
        viewer: ViewerIdentity::generate(),
        other_viewer: ViewerIdentity::generate(),
        binding,
        count: 0,
    };
    objects::opened(&mut g);
    objects::misdelivered(&mut g);
    objects::signatures(&mut g);
    padding::vectors(&mut g);
    damage::flipped(&mut g);
    damage::truncated(&mut g);
    sets::vectors(&mut g);
    println!("wrote {} vectors to {}", g.count, g.dir.display());
}
