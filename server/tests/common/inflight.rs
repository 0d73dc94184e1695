//! An upload held in flight: its body arrives in two pieces, the second only
//! when the test says so; and the metrics that show it.

use reqwest::StatusCode;
use uuid::Uuid;

use super::{now, CameraCred, TestServer};

/// A clip upload whose body has not finished arriving.
pub struct InFlight {
    tx: tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>,
    response: tokio::task::JoinHandle<reqwest::Result<reqwest::Response>>,
}

/// The server's metrics page.
pub async fn metrics(t: &TestServer) -> String {
    let metrics_url = format!("http://{}/metrics", t.server.metrics_addr().unwrap());
    t.http
        .get(&metrics_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Starts `PUT /v1/events/{event}/parts/clip` with the header `hdr!` and the
/// payload's first piece `first`, and returns once the server counts it in
/// flight (`sealcam_uploads_in_flight 1`).
pub async fn hold_upload(t: &TestServer, cam: &CameraCred, event: Uuid) -> InFlight {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let url = t.url(&format!(
        "/v1/events/{event}/parts/clip?captured_at={}&header_len=4",
        now()
    ));
    let response = tokio::spawn(
        t.http
            .put(url)
            .bearer_auth(&cam.token)
            .body(reqwest::Body::wrap_stream(stream))
            .send(),
    );
    tx.send(Ok(b"hdr!first".to_vec())).await.unwrap();
    // Wait (without sleeping) until the server counts it in flight.
    loop {
        if metrics(t).await.contains("sealcam_uploads_in_flight 1") {
            break;
        }
        tokio::task::yield_now().await;
    }
    InFlight { tx, response }
}

impl InFlight {
    /// Sends the rest of the payload (`-rest`, so it is `first-rest`) and
    /// returns the answer's status.
    pub async fn finish(self) -> StatusCode {
        self.tx.send(Ok(b"-rest".to_vec())).await.unwrap();
        drop(self.tx);
        self.response.await.unwrap().unwrap().status()
    }
}
