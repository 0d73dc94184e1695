//! Writing one vector file: its common fields and where it goes.

use std::path::PathBuf;

use sealcam_keys::OwnerKeyState;

use crate::vector_file::VectorFile;

/// Where the vectors go, and how many were written.
pub(crate) struct Gen {
    pub(crate) root: PathBuf,
    pub(crate) count: usize,
}

impl Gen {
    pub(crate) fn write(&mut self, doc: &str, name: &str, v: &VectorFile) {
        assert!(
            name.starts_with("ok_") || name.starts_with("fail_"),
            "{name}: vectors are ok_* or fail_*"
        );
        std::fs::write(self.root.join(doc).join(name), v.encode()).unwrap();
        self.count += 1;
    }
}

pub(crate) fn vector(expect: &str, kind: &str, check: &str, comment: &str) -> VectorFile {
    let mut v = VectorFile::new();
    v.set("expect", expect)
        .set("comment", comment)
        .set("kind", kind)
        .set("check", check);
    v
}

pub(crate) fn position(state: &OwnerKeyState) -> String {
    format!("{},{}", state.reset, state.generation)
}
