//! Re-wrapping: giving more viewers access to an existing object by writing a
//! new age header for the same file key (history grant, recovery). The
//! payload, and the device signature inside it, stay as they are.
//!
//! A re-wrap only ever adds: every stanza of the old header is kept, so every
//! recipient that opened the object still does, and the new header is bound
//! to the same payload. Whoever re-wraps needs a recipient's identity (to
//! learn the file key) and cannot change what the object says or who made it.

use sealcam_keys::{ViewerIdentity, ViewerRecipient};

use crate::age_header::MAX_HEADER_LEN;
use crate::open::Opening;
use crate::OpenError;

/// Opens `header` with one of `identities` and writes a new header that keeps
/// every recipient of the old one and its binding stanza, and adds a stanza
/// wrapping the same file key to each of `added`, under a new header MAC.
/// In a version 2 header an added stanza takes an unused slot, so the
/// header's size does not change until all slots are taken; in a version 1
/// header it goes before the `sealcam-payload` stanza.
///
/// Errors as [`Opening::new`] (`NotAddressedToViewer` when no identity
/// opens it, `Header`/`HeaderMac` when it is malformed), and `Header` when
/// the new header would be longer than the 64 KiB every reader accepts.
///
/// This checks the header only: that it belongs to the object the caller
/// means is for the caller to check first (verify the whole object with
/// [`Opening::verify`] on the same header bytes), or another object's file
/// key could be re-wrapped.
///
/// ```
/// # use sealcam_keys::*;
/// # use sealcam_format::*;
/// # let owner_key = OwnerSigningKey::generate();
/// # let (owner, camera) = (OwnerId::random(), CameraId::random());
/// # let me = ViewerIdentity::generate();
/// # let pin = RecipientSetPin { owner, camera, owner_key: owner_key.public() };
/// # let set = RecipientSet::new(owner, camera, 1, vec![me.to_public()])?.sign(&owner_key).verify(&pin)?;
/// # let device = DeviceKey::generate();
/// # let binding = Binding { owner, camera, event: EventId::now_v7(), kind: PartKind::Thumbnail, sequence: 0 };
/// # let meta = ObjectMeta { binding, captured_at_ms: 1_764_000_000_000, epoch: 0, followed: None, content_type: "image/jpeg".into() };
/// let (header, payload) = seal(Sealer::new(&set, &device, meta)?, &mut &b"a jpeg"[..], Vec::new())?;
/// let newcomer = ViewerIdentity::generate();
/// let header = rewrap_adding(&header, &[&me], &[newcomer.to_public()])?;
/// for viewer in [&me, &newcomer] {
///     let opened = open_to_vec(&header, &payload, &[viewer], &binding, &device.public())?;
///     assert_eq!(opened.body, b"a jpeg");
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn rewrap_adding(
    header: &[u8],
    identities: &[&ViewerIdentity],
    added: &[ViewerRecipient],
) -> Result<Vec<u8>, OpenError> {
    let opening = Opening::new(header, identities)?;
    // A malformed binding stanza is refused here rather than carried along.
    opening.header().payload_binding()?;
    let out = opening
        .header()
        .write_adding(
            opening.file_key(),
            added.iter().map(|r| r.as_age() as &dyn age::Recipient),
        )
        .map_err(|_| OpenError::Header("re-wrapping the file key failed"))?;
    if out.len() > MAX_HEADER_LEN {
        return Err(OpenError::Header(
            "the re-wrapped header would be longer than 64 KiB",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use sealcam_keys::{
        CameraId, DeviceKey, EventId, OwnerId, OwnerSigningKey, RecipientSet, RecipientSetPin,
    };

    use super::*;
    use crate::age_header::AgeHeader;
    use crate::{open_to_vec, seal, Binding, ObjectMeta, PartKind, Sealer};

    struct Sealed {
        header: Vec<u8>,
        payload: Vec<u8>,
        binding: Binding,
        device: DeviceKey,
    }

    fn seal_to(viewers: &[&ViewerIdentity], body: &[u8]) -> Sealed {
        let owner_key = OwnerSigningKey::generate();
        let (owner, camera) = (OwnerId::random(), CameraId::random());
        let pin = RecipientSetPin {
            owner,
            camera,
            owner_key: owner_key.public(),
        };
        let set = RecipientSet::new(
            owner,
            camera,
            1,
            viewers.iter().map(|v| v.to_public()).collect(),
        )
        .unwrap()
        .sign(&owner_key)
        .verify(&pin)
        .unwrap();
        let binding = Binding {
            owner,
            camera,
            event: EventId::now_v7(),
            kind: PartKind::Clip,
            sequence: 0,
        };
        let meta = ObjectMeta {
            binding,
            captured_at_ms: 1_764_000_000_000,
            epoch: 0,
            followed: None,
            content_type: "video/mp4".into(),
        };
        let device = DeviceKey::generate();
        let sealer = Sealer::new(&set, &device, meta).unwrap();
        let (header, payload) = seal(sealer, &mut &body[..], Vec::new()).unwrap();
        Sealed {
            header,
            payload,
            binding,
            device,
        }
    }

    fn opens(s: &Sealed, header: &[u8], viewer: &ViewerIdentity) -> Result<Vec<u8>, OpenError> {
        open_to_vec(
            header,
            &s.payload,
            &[viewer],
            &s.binding,
            &s.device.public(),
        )
        .map(|o| o.body)
    }

    #[test]
    fn old_and_added_recipients_open_a_third_does_not() {
        let (a, b) = (ViewerIdentity::generate(), ViewerIdentity::generate());
        let (added, third) = (ViewerIdentity::generate(), ViewerIdentity::generate());
        let body = vec![7u8; 200_000];
        let s = seal_to(&[&a, &b], &body);
        let new = rewrap_adding(&s.header, &[&b], &[added.to_public()]).unwrap();
        for v in [&a, &b, &added] {
            assert_eq!(opens(&s, &new, v).unwrap(), body);
        }
        assert!(matches!(
            opens(&s, &new, &third),
            Err(OpenError::NotAddressedToViewer)
        ));
        // Adding nobody keeps the header byte for byte (same stanzas, same MAC).
        assert_eq!(rewrap_adding(&s.header, &[&a], &[]).unwrap(), s.header);
    }

    #[test]
    fn added_stanzas_take_unused_slots_and_the_rest_stays_in_place() {
        let a = ViewerIdentity::generate();
        let (x, y) = (ViewerIdentity::generate(), ViewerIdentity::generate());
        let s = seal_to(&[&a], b"x");
        let new = rewrap_adding(&s.header, &[&a], &[x.to_public(), y.to_public()]).unwrap();
        let old = AgeHeader::parse(&s.header).unwrap();
        let parsed = AgeHeader::parse(&new).unwrap();
        // The same number of slots: the size of the header does not change.
        assert_eq!(new.len(), s.header.len());
        assert_eq!(parsed.x25519_slots(), crate::age_header::SLOTS);
        let changed = old
            .stanzas()
            .iter()
            .zip(parsed.stanzas())
            .filter(|(o, n)| o != n)
            .count();
        assert_eq!(changed, 2, "exactly the two taken slots changed");
        assert_eq!(parsed.stanzas().last(), old.stanzas().last());
        assert_eq!(
            parsed.stanzas().last().map(|s| s.tag.as_str()),
            Some("sealcam-bind")
        );
        // Re-wrapping again (by an added viewer) keeps everything once more.
        let again = rewrap_adding(&new, &[&y], &[ViewerIdentity::generate().to_public()]).unwrap();
        assert_eq!(again.len(), s.header.len());
        for v in [&a, &x, &y] {
            assert_eq!(opens(&s, &again, v).unwrap(), b"x");
        }
    }

    #[test]
    fn a_full_header_grows_by_a_block_of_slots() {
        let viewers: Vec<_> = (0..16).map(|_| ViewerIdentity::generate()).collect();
        let refs: Vec<&ViewerIdentity> = viewers.iter().collect();
        let s = seal_to(&refs, b"x");
        let added = ViewerIdentity::generate();
        let new = rewrap_adding(&s.header, &[&viewers[3]], &[added.to_public()]).unwrap();
        assert_eq!(AgeHeader::parse(&new).unwrap().x25519_slots(), 32);
        for v in [&viewers[0], &viewers[15], &added] {
            assert_eq!(opens(&s, &new, v).unwrap(), b"x");
        }
    }

    #[test]
    fn not_addressed_and_tampered_headers_are_refused() {
        let (a, b) = (ViewerIdentity::generate(), ViewerIdentity::generate());
        let s = seal_to(&[&a], b"x");
        assert!(matches!(
            rewrap_adding(&s.header, &[&b], &[b.to_public()]),
            Err(OpenError::NotAddressedToViewer)
        ));
        let mut bad = s.header.clone();
        let at = bad.len() - 5;
        bad[at] = if bad[at] == b'A' { b'B' } else { b'A' };
        assert!(matches!(
            rewrap_adding(&bad, &[&a], &[b.to_public()]),
            Err(OpenError::HeaderMac | OpenError::Header(_))
        ));
    }

    #[test]
    fn a_header_is_never_grown_past_the_limit() {
        let a = ViewerIdentity::generate();
        let s = seal_to(&[&a], b"x");
        let many: Vec<_> = (0..700)
            .map(|_| ViewerIdentity::generate().to_public())
            .collect();
        assert!(matches!(
            rewrap_adding(&s.header, &[&a], &many),
            Err(OpenError::Header(_))
        ));
    }
}
