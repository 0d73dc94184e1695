//! What a household's tests read back, through the binaries and the API:
//! the events an owner lists, a part fetched and opened, the server's
//! health answer, and a camera's credential from its state directory.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use super::{Camera, Household};
use crate::HarnessError;

impl Camera {
    /// Its bearer credential (`scc_…`), from `camera.json` in its state.
    pub fn credential(&self) -> Result<String, HarnessError> {
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(self.state.join("camera.json"))?)?;
        json["credential"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "camera.json holds no credential".into())
    }
}

impl Household {
    /// The event ids `sealcam events list --json` shows in `home`, newest first.
    pub fn event_ids(&self, home: &str) -> Result<Vec<String>, HarnessError> {
        let out = self
            .sealcam(home, &["events", "list", "--json"])?
            .checked()?
            .json()?;
        Ok(out["events"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["event_id"].as_str().map(str::to_owned))
            .collect())
    }

    /// `part` of `event`, fetched, verified and decrypted by `sealcam fetch`
    /// in `home`.
    pub fn fetch_part(&self, home: &str, event: &str, part: &str) -> Result<Vec<u8>, HarnessError> {
        let out = self.path(&format!("fetched-{home}-{event}-{part}"));
        let out_arg = out.to_str().ok_or("non-UTF-8 path")?;
        self.sealcam(home, &["fetch", event, "--part", part, "-o", out_arg])?
            .checked()?;
        Ok(std::fs::read(out)?)
    }

    /// The server's raw answer to `GET /healthz` (status line, headers, body).
    pub fn healthz(&self) -> Result<String, HarnessError> {
        let mut conn = TcpStream::connect(self.server.addr())?;
        conn.set_read_timeout(Some(Duration::from_secs(30)))?;
        conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
        let mut got = String::new();
        let _ = conn.read_to_string(&mut got);
        Ok(got)
    }
}
