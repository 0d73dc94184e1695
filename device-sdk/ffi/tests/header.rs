//! The committed header (`device-sdk/include/sealcam_device.h`) is exactly
//! what cbindgen generates from this crate: this test fails when it is stale.
//! Regenerate it with `SEALCAM_BLESS=1 cargo test -p sealcam-device-ffi --test header`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

#[test]
fn committed_header_is_up_to_date() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).unwrap();
    let bindings = cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen failed");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let path = crate_dir.join("../include/sealcam_device.h");
    if std::env::var_os("SEALCAM_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "device-sdk/include/sealcam_device.h is stale: run \
         `SEALCAM_BLESS=1 cargo test -p sealcam-device-ffi --test header` and commit it"
    );
}
