//! Background tasks: the schedule of retention and the orphan sweep.
//!
//! What each pass does lives in the parts service ([`Parts::retention_once`],
//! [`Parts::sweep`]); both are safe when every replica runs them at once
//! (docs/SCALE-OUT.md).

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::parts::Parts;
use crate::state::AppState;

async fn every<F, Fut>(period: Duration, mut stop: watch::Receiver<bool>, mut job: F)
where
    F: FnMut() -> Fut + Send,
    Fut: std::future::Future<Output = ()> + Send,
{
    let mut ticker = tokio::time::interval(period.max(Duration::from_secs(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => job().await,
            () = async { let _ = stop.wait_for(|s| *s).await; } => return,
        }
    }
}

/// Starts the retention and sweep loops; they end when `stop` turns true.
pub fn spawn(state: AppState, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let tasks = state.config.tasks.clone();
    let retention_state = state.clone();
    let retention = tokio::spawn(every(
        Duration::from_secs(tasks.retention_interval_secs),
        stop.clone(),
        move || {
            let state = retention_state.clone();
            async move {
                if let Err(e) = Parts::of(&state).retention_once().await {
                    tracing::error!(error = %e, "retention run failed");
                }
            }
        },
    ));
    let grace = Duration::from_secs(tasks.orphan_grace_secs);
    let sweep = tokio::spawn(every(
        Duration::from_secs(tasks.sweep_interval_secs),
        stop,
        move || {
            let state = state.clone();
            async move {
                match Parts::of(&state).sweep(grace).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(removed = n, "orphan sweep"),
                    Err(e) => tracing::error!(error = %e, "orphan sweep failed"),
                }
            }
        },
    ));
    vec![retention, sweep]
}
