//! Accounts, devices and the opaque account records.

use reqwest::header::{ETAG, IF_MATCH, IF_NONE_MATCH};
use reqwest::Method;
use sealcam_wire::{AccountInfo, DeviceList, EnrollRequest, EnrollResponse, LinkResponse};
use uuid::Uuid;

use super::{Api, Credential, Precondition, Record};
use crate::error::{ClientError, Result};

/// What the server is told a device is called: the same for every device,
/// so it learns no name ("Alice's iPhone"); the owner record holds the names.
pub const SERVER_DEVICE_LABEL: &str = "device";

impl Api {
    /// `POST /v1/enroll`.
    /// `viewer_key` is the commitment to this device's viewer key
    /// ([`sealcam_keys::ViewerRecipient::commitment`]): recorded with the device, and
    /// required to match when the link token was bound to one.
    ///
    /// The device's name is not sent: names live only in the sealed owner
    /// record (S9). The server gets the same label, [`SERVER_DEVICE_LABEL`],
    /// for every device.
    pub async fn enroll(&self, token: &str, viewer_key: Option<&str>) -> Result<EnrollResponse> {
        let req = Self::with_json(
            self.request(Method::POST, "/v1/enroll"),
            &EnrollRequest {
                token: token.to_owned(),
                device_name: SERVER_DEVICE_LABEL.to_owned(),
                viewer_key: viewer_key.map(str::to_owned),
            },
        )?;
        match self.json(req, "enrollment token").await {
            Err(ClientError::Unauthorized) => Err(ClientError::BadInput(
                "the server refused the token: it is unknown, used or expired; ask the operator for a new one (`sealcam-server accounts create`) or a new link code".into(),
            )),
            other => other,
        }
    }

    /// `GET /v1/account`.
    pub async fn account(&self) -> Result<AccountInfo> {
        self.json(self.request(Method::GET, "/v1/account"), "account")
            .await
    }

    /// `GET /v1/devices`.
    pub async fn devices(&self) -> Result<DeviceList> {
        self.json(self.request(Method::GET, "/v1/devices"), "devices")
            .await
    }

    /// `POST /v1/devices/link`, the token bound to `viewer_key` (a
    /// [`sealcam_keys::ViewerRecipient::commitment`]) when given: only a device presenting
    /// the same commitment can enroll with it.
    pub async fn link_device(&self, viewer_key: Option<&str>) -> Result<LinkResponse> {
        let req = Self::with_json(
            self.request(Method::POST, "/v1/devices/link"),
            &sealcam_wire::LinkRequest {
                viewer_key: viewer_key.map(str::to_owned),
            },
        )?;
        self.json(req, "link").await
    }

    /// `DELETE /v1/devices/link`: withdraws every unused link token of the account.
    pub async fn withdraw_links(&self) -> Result<()> {
        let req = self.request(Method::DELETE, "/v1/devices/link");
        self.send(req, "link tokens").await.map(drop)
    }

    /// `DELETE /v1/devices/{id}`.
    pub async fn delete_device(&self, device: Uuid) -> Result<()> {
        let req = self.request(Method::DELETE, &format!("/v1/devices/{device}"));
        self.send(req, &format!("device {device}")).await.map(drop)
    }

    /// `PUT /v1/account/recovery-credential`: registers the credential derived
    /// from the recovery key (the server keeps only its hash).
    pub async fn register_recovery_credential(&self, credential: &Credential) -> Result<()> {
        let req = Self::with_json(
            self.request(Method::PUT, "/v1/account/recovery-credential"),
            &serde_json::json!({ "credential": credential.expose() }),
        )?;
        self.send(req, "recovery credential").await.map(drop)
    }

    /// Reads an account record and its ETag; `None` when none is stored.
    pub async fn get_record(&self, record: Record) -> Result<Option<(Vec<u8>, String)>> {
        match self
            .send(self.request(Method::GET, record.path()), "record")
            .await
        {
            Ok(resp) => {
                let etag = resp
                    .headers()
                    .get(ETAG)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                Ok(Some((self.body(resp).await?, etag)))
            }
            Err(ClientError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes an account record and returns its new ETag;
    /// [`ClientError::Conflict`] when the precondition fails.
    pub async fn put_record(
        &self,
        record: Record,
        data: Vec<u8>,
        pre: Precondition,
    ) -> Result<String> {
        let mut req = self
            .request(Method::PUT, record.path())
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(data);
        match pre {
            Precondition::None => {}
            Precondition::IfMatch(etag) => req = req.header(IF_MATCH, etag),
            Precondition::IfAbsent => req = req.header(IF_NONE_MATCH, "*"),
        }
        let resp = self.send(req, "record").await?;
        Ok(resp
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned())
    }
}
