//! Recipient sets (version 1 sets as the format crate's tests read them;
//! `sealcam-keys` has the vectors of the current set format).

use sealcam_keys::{CameraId, OwnerSigningKey, RecipientSet, RecipientSetPin, ViewerIdentity};

use crate::vector_file::VectorFile;
use crate::Gen;

pub(crate) fn vectors(g: &mut Gen) {
    let b = g.binding;
    let pin = RecipientSetPin {
        owner: b.owner,
        camera: b.camera,
        owner_key: g.owner_key.public(),
    };
    let viewers = vec![g.viewer.to_public(), g.other_viewer.to_public()];
    let accepted = RecipientSet::new(pin.owner, pin.camera, 5, viewers.clone())
        .unwrap()
        .sign(&g.owner_key);
    let set_vector = |g: &mut Gen,
                      name: &str,
                      expect: &str,
                      comment: &str,
                      data: Vec<u8>,
                      with_accepted: bool| {
        let mut v = VectorFile::new();
        v.set("expect", expect)
            .set("comment", comment)
            .set("kind", "recipient-set")
            .set("owner-key", pin.owner_key)
            .set("owner", pin.owner)
            .set("camera", pin.camera);
        if with_accepted {
            v.set("accepted", hex::encode(accepted.as_bytes()));
        }
        v.data = data;
        g.write(name, &v);
    };
    let newer = RecipientSet::new(pin.owner, pin.camera, 6, viewers[..1].to_vec())
        .unwrap()
        .sign(&g.owner_key);
    set_vector(
        g,
        "ok_set_newer_epoch",
        "ok",
        "a newer set that drops a viewer",
        newer.as_bytes().to_vec(),
        true,
    );
    set_vector(
        g,
        "ok_set_first",
        "ok",
        "the first set after pairing",
        accepted.as_bytes().to_vec(),
        false,
    );
    let old = RecipientSet::new(pin.owner, pin.camera, 4, viewers.clone())
        .unwrap()
        .sign(&g.owner_key);
    set_vector(
        g,
        "fail_set_rolled_back",
        "rolled back",
        "an older set replayed after epoch 5",
        old.as_bytes().to_vec(),
        true,
    );
    let same_epoch = RecipientSet::new(pin.owner, pin.camera, 5, viewers[..1].to_vec())
        .unwrap()
        .sign(&g.owner_key);
    set_vector(
        g,
        "fail_set_equivocation",
        "equivocation",
        "a different set reusing the accepted epoch",
        same_epoch.as_bytes().to_vec(),
        true,
    );
    let server_key = OwnerSigningKey::generate();
    let mut with_server = viewers.clone();
    with_server.push(ViewerIdentity::generate().to_public());
    let by_server = RecipientSet::new(pin.owner, pin.camera, 6, with_server.clone())
        .unwrap()
        .sign(&server_key);
    set_vector(
        g,
        "fail_set_signed_by_server",
        "not signed by pinned owner",
        "the server signed its own set with its own key",
        by_server.as_bytes().to_vec(),
        true,
    );
    // Inject a recipient into the genuine set's bytes (count + entry) and keep the owner's signature.
    let mut injected = newer.as_bytes().to_vec();
    let sig = injected.split_off(injected.len() - 64);
    injected[8 + 16 + 16 + 8 + 8] += 1;
    let extra = with_server[2].to_string();
    injected.push(extra.len() as u8);
    injected.extend_from_slice(extra.as_bytes());
    injected.extend_from_slice(&sig);
    set_vector(
        g,
        "fail_set_injected_recipient",
        "not signed by pinned owner",
        "a recipient inserted into a genuine set",
        injected,
        true,
    );
    let stripped = newer.as_bytes()[..newer.as_bytes().len() - 64].to_vec();
    set_vector(
        g,
        "fail_set_stripped_signature",
        "malformed",
        "the signature removed",
        stripped,
        true,
    );
    let other_cam = RecipientSet::new(pin.owner, CameraId::random(), 6, viewers.clone())
        .unwrap()
        .sign(&g.owner_key);
    set_vector(
        g,
        "fail_set_other_camera",
        "wrong camera",
        "a genuine set of another camera of the same owner",
        other_cam.as_bytes().to_vec(),
        true,
    );
}
