//! Draining the spool: oldest part first, with backoff, until it is empty,
//! the server refuses the camera, or the time is up.

use std::time::{Duration, Instant};

use super::{Device, Notice};
use crate::api::{Failure, PartUpload};
use crate::spool::{Loss, LossReason, SpoolEntry};
use crate::DeviceError;

/// The least a part waits after an answer that was not the sealcam API's
/// before it is tried again (the parts behind it go first); it doubles with
/// every such answer in a row, up to [`UNEXPLAINED_MAX_WAIT`], so a clip a
/// proxy never lets through is not sent again every second.
const UNEXPLAINED_WAIT: Duration = Duration::from_secs(1);
/// The most such a part waits.
const UNEXPLAINED_MAX_WAIT: Duration = Duration::from_secs(3600);

/// One step of draining the spool.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DrainStep {
    /// Nothing is spooled.
    Empty,
    /// The oldest part was delivered (`created: false` when the server had it already).
    Delivered {
        /// The delivered part.
        entry: SpoolEntry,
        /// Whether this upload stored it.
        created: bool,
    },
    /// The oldest part was refused for good and dropped.
    Rejected {
        /// The dropped part.
        entry: SpoolEntry,
        /// The HTTP status.
        status: u16,
    },
    /// The server is unreachable or overloaded; try again after `after`.
    Retry {
        /// The wait.
        after: Duration,
        /// What failed.
        why: String,
    },
    /// The server refuses this camera (401/403); try again after `after`.
    Blocked {
        /// The HTTP status.
        status: u16,
        /// The wait.
        after: Duration,
    },
    /// Backing off: the next attempt is due after `after`.
    Wait {
        /// The wait.
        after: Duration,
    },
    /// The server has no room for this part (507), or something that is
    /// not the sealcam API answered for it (a captive portal, a proxy's body
    /// limit): it stays spooled and is tried again after `after`; the drain
    /// goes on with the next parts.
    Deferred {
        /// The part that waits.
        entry: SpoolEntry,
        /// When it is tried again.
        after: Duration,
    },
}

/// The totals of a blocking drain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrainReport {
    /// Parts delivered.
    pub delivered: u64,
    /// Parts the server had already (a re-upload after a crash), counted in `delivered` too.
    pub already_stored: u64,
    /// Attempts that failed transiently and will be retried.
    pub retried: u64,
    /// Parts refused for good and dropped.
    pub rejected: u64,
    /// Parts still spooled when the drain stopped.
    pub remaining: u64,
    /// Whether it stopped because the server refuses this camera.
    pub blocked: bool,
}

impl Device {
    /// The oldest spooled part that is not waiting for room on the server,
    /// or how long until one is.
    fn next_entry(&mut self) -> Result<SpoolEntry, DrainStep> {
        if self.deferred.is_empty() {
            // The usual case: no part waits for room, the oldest goes.
            return self.spool.oldest().cloned().ok_or(DrainStep::Empty);
        }
        let now = Instant::now();
        let spooled: std::collections::HashSet<u64> =
            self.spool.entries().iter().map(SpoolEntry::seq).collect();
        self.deferred
            .retain(|seq, due| *due > now && spooled.contains(seq));
        self.unexplained.retain(|seq, _| spooled.contains(seq));
        if let Some(entry) = self
            .spool
            .entries()
            .iter()
            .find(|e| !self.deferred.contains_key(&e.seq()))
        {
            return Ok(entry.clone());
        }
        match self.deferred.values().min() {
            Some(due) => Err(DrainStep::Wait {
                after: due.saturating_duration_since(now),
            }),
            None => Err(DrainStep::Empty),
        }
    }

    /// Tries to upload the oldest spooled part once (unless backing off).
    /// A part the server has no room for waits, and later ones go first.
    pub fn drain_once(&mut self) -> Result<DrainStep, DeviceError> {
        let entry = match self.next_entry() {
            Ok(entry) => entry,
            Err(step) => return Ok(step),
        };
        let wait = self.backoff.remaining();
        if !wait.is_zero() {
            return Ok(DrainStep::Wait { after: wait });
        }
        let (pairing, api) = self.paired()?;
        let mut body = entry.open_object()?;
        let result = api.upload(
            &pairing.credential,
            &PartUpload {
                event: entry.event,
                kind: entry.kind,
                captured_at: entry.captured_at,
                header_len: entry.header_len,
                len: Some(entry.object_len),
            },
            &mut body,
        );
        drop(body);
        match result {
            Ok(answer) => {
                self.spool.remove(&entry)?;
                self.unexplained.remove(&entry.seq());
                self.backoff.succeeded();
                self.blocked = false;
                self.notify(Notice::Uploaded {
                    event: entry.event,
                    kind: entry.kind,
                    bytes: entry.object_len,
                    created: answer.created,
                });
                Ok(DrainStep::Delivered {
                    entry,
                    created: answer.created,
                })
            }
            Err(Failure::Retry { retry_after, why }) => {
                let after = self.backoff.failed(&self.config.backoff, retry_after);
                self.notify(Notice::Retrying {
                    after,
                    why: why.clone(),
                });
                Ok(DrainStep::Retry { after, why })
            }
            Err(Failure::NoRoom { retry_after, why }) => {
                let after = retry_after.unwrap_or(super::NO_ROOM_WAIT);
                self.deferred.insert(entry.seq(), Instant::now() + after);
                self.notify(Notice::Retrying { after, why });
                Ok(DrainStep::Deferred { entry, after })
            }
            Err(Failure::Unexplained { retry_after, why }) => {
                // Kept, and the drain backs off: a portal answers every part
                // so. The parts behind it go first once the backoff is over
                // (a proxy that refuses large bodies refuses only clips).
                let backoff = self.backoff.failed(&self.config.backoff, retry_after);
                let tries = self.unexplained.entry(entry.seq()).or_insert(0);
                let own = UNEXPLAINED_WAIT
                    .saturating_mul(1 << (*tries).min(12))
                    .min(UNEXPLAINED_MAX_WAIT);
                *tries = tries.saturating_add(1);
                let after = backoff.max(own);
                self.deferred.insert(entry.seq(), Instant::now() + after);
                self.notify(Notice::Retrying {
                    after,
                    why: why.clone(),
                });
                Ok(DrainStep::Deferred { entry, after })
            }
            Err(Failure::Blocked {
                status, message, ..
            }) => {
                self.blocked = true;
                let after = self.backoff.failed(&self.config.backoff, None);
                self.notify(Notice::Blocked { status, message });
                Ok(DrainStep::Blocked { status, after })
            }
            Err(Failure::Rejected { status, .. }) => {
                self.spool.remove(&entry)?;
                self.unexplained.remove(&entry.seq());
                self.notify(Notice::Lost(Loss {
                    event: entry.event,
                    kind: entry.kind,
                    bytes: entry.object_len,
                    reason: LossReason::Rejected { status },
                }));
                Ok(DrainStep::Rejected { entry, status })
            }
        }
    }

    /// Drains the spool oldest first, sleeping through backoff, until it is
    /// empty, the server refuses this camera, or `max_wait` has passed.
    pub fn drain(&mut self, max_wait: Duration) -> Result<DrainReport, DeviceError> {
        let deadline = Instant::now() + max_wait;
        let mut report = DrainReport::default();
        loop {
            let step = self.drain_once()?;
            let wait = match step {
                DrainStep::Empty => break,
                DrainStep::Delivered { created, .. } => {
                    report.delivered += 1;
                    report.already_stored += u64::from(!created);
                    continue;
                }
                DrainStep::Rejected { .. } => {
                    report.rejected += 1;
                    continue;
                }
                DrainStep::Retry { after, .. } => {
                    report.retried += 1;
                    after
                }
                DrainStep::Blocked { .. } => {
                    report.blocked = true;
                    break;
                }
                DrainStep::Wait { after } => after,
                DrainStep::Deferred { .. } => {
                    report.retried += 1;
                    continue;
                }
            };
            let now = Instant::now();
            if now + wait > deadline {
                break;
            }
            std::thread::sleep(wait);
        }
        report.remaining = self.spool.entries().len() as u64;
        Ok(report)
    }
}
