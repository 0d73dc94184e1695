//! Pairing and cameras: claim tokens, confirmation, recipient sets,
//! retention and shares.

use reqwest::Method;
use sealcam_wire::{CameraList, PairingResponse, RecipientSet, Retention, ShareList};
use uuid::Uuid;

use super::Api;
use crate::error::{ClientError, Result};

impl Api {
    /// `POST /v1/pairings`.
    pub async fn create_pairing(&self) -> Result<PairingResponse> {
        self.json(self.request(Method::POST, "/v1/pairings"), "pairing")
            .await
    }

    /// `GET /v1/cameras`.
    pub async fn cameras(&self) -> Result<CameraList> {
        self.json(self.request(Method::GET, "/v1/cameras"), "cameras")
            .await
    }

    /// `POST /v1/cameras/{id}/confirm`.
    pub async fn confirm_camera(&self, camera: Uuid) -> Result<()> {
        let req = self.request(Method::POST, &format!("/v1/cameras/{camera}/confirm"));
        self.send(req, &format!("camera {camera}")).await.map(drop)
    }

    /// `DELETE /v1/cameras/{id}`.
    pub async fn delete_camera(&self, camera: Uuid) -> Result<()> {
        let req = self.request(Method::DELETE, &format!("/v1/cameras/{camera}"));
        self.send(req, &format!("camera {camera}")).await.map(drop)
    }

    /// `GET /v1/cameras/{id}/recipient-set`; `None` when none was published.
    pub async fn recipient_set(&self, camera: Uuid) -> Result<Option<RecipientSet>> {
        let req = self.request(Method::GET, &format!("/v1/cameras/{camera}/recipient-set"));
        match self.json(req, &format!("camera {camera}")).await {
            Ok(s) => Ok(Some(s)),
            Err(ClientError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `PUT /v1/cameras/{id}/recipient-set`. With `supersede` the server
    /// stores it even over a set with a higher epoch (one that does not
    /// verify for this owner: see `Client::publish_set`).
    pub async fn put_recipient_set(
        &self,
        camera: Uuid,
        epoch: u64,
        set: &[u8],
        supersede: bool,
    ) -> Result<()> {
        use base64::Engine as _;
        let body = RecipientSet {
            epoch,
            set: base64::engine::general_purpose::STANDARD.encode(set),
            key_log: None,
            supersede,
        };
        let req = Self::with_json(
            self.request(Method::PUT, &format!("/v1/cameras/{camera}/recipient-set")),
            &body,
        )?;
        self.send(req, &format!("camera {camera}")).await.map(drop)
    }

    /// `PUT /v1/cameras/{id}/retention`.
    pub async fn set_retention(&self, camera: Uuid, days: Option<u32>) -> Result<()> {
        let req = Self::with_json(
            self.request(Method::PUT, &format!("/v1/cameras/{camera}/retention")),
            &Retention { days },
        )?;
        self.send(req, &format!("camera {camera}")).await.map(drop)
    }

    /// `GET /v1/cameras/{id}/shares`.
    pub async fn shares(&self, camera: Uuid) -> Result<ShareList> {
        let req = self.request(Method::GET, &format!("/v1/cameras/{camera}/shares"));
        self.json(req, &format!("camera {camera}")).await
    }

    /// `PUT /v1/cameras/{id}/shares/{account}`.
    pub async fn put_share(&self, camera: Uuid, account: Uuid) -> Result<()> {
        let req = self.request(
            Method::PUT,
            &format!("/v1/cameras/{camera}/shares/{account}"),
        );
        self.send(req, &format!("camera {camera} or account {account}"))
            .await
            .map(drop)
    }

    /// `DELETE /v1/cameras/{id}/shares/{account}`.
    pub async fn delete_share(&self, camera: Uuid, account: Uuid) -> Result<()> {
        let req = self.request(
            Method::DELETE,
            &format!("/v1/cameras/{camera}/shares/{account}"),
        );
        self.send(req, &format!("share of camera {camera} with {account}"))
            .await
            .map(drop)
    }
}
