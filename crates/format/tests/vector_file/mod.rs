//! The text format of sealcam's test vectors (sealcam-format's objects and
//! sealcam-keys' signed documents), shared by both crates' generators
//! (`examples/gen_vectors.rs`) and the test (`tests/vectors.rs`).
//!
//! Like the age testkit: `key: value` lines, an empty line, then the binary
//! (an object `header ‖ payload`, a recipient set, a key log or statement, a
//! sealed owner record or key bundle, or a plaintext).
#![allow(dead_code, missing_docs)]

use std::collections::BTreeMap;

pub struct VectorFile {
    pub fields: Vec<(String, String)>,
    pub data: Vec<u8>,
}

impl VectorFile {
    pub fn new() -> Self {
        Self {
            fields: Vec::new(),
            data: Vec::new(),
        }
    }

    pub fn set(&mut self, k: &str, v: impl ToString) -> &mut Self {
        let v = v.to_string();
        assert!(!v.contains('\n'), "{k}: a field is one line");
        self.fields.push((k.to_owned(), v));
        self
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (k, v) in &self.fields {
            out.extend_from_slice(format!("{k}: {v}\n").as_bytes());
        }
        out.push(b'\n');
        out.extend_from_slice(&self.data);
        out
    }

    pub fn decode(raw: &[u8]) -> Option<(BTreeMap<String, String>, Vec<u8>)> {
        let split = raw.windows(2).position(|w| w == b"\n\n")?;
        let head = std::str::from_utf8(&raw[..split]).ok()?;
        let fields = head
            .lines()
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Some((fields, raw[split + 2..].to_vec()))
    }
}
