//! The head this process publishes to its readers.
//!
//! Two sources may publish: the sequencer after each commit (on the leader), and a refresh
//! from storage (on a follower, or on the leader after a failed commit). Storage never
//! shrinks, so the published head only ever moves forward: a late, smaller head is ignored
//! rather than shown to a client after a larger one.

use std::sync::Arc;

use tokio::sync::watch;

use super::reader::HeadState;
use super::sequencer::load_head;
use super::storage::{LogStorage, StorageError};

/// Publishes the latest committed head, never going backwards.
pub struct HeadPublisher {
    tx: watch::Sender<Arc<HeadState>>,
    /// One reload from storage at a time: many waiting followers' appends need the same
    /// new head, read once.
    reloading: tokio::sync::Mutex<()>,
}

impl HeadPublisher {
    /// A publisher starting at `initial`, and the receiver readers subscribe with.
    pub fn new(initial: HeadState) -> (Arc<HeadPublisher>, watch::Receiver<Arc<HeadState>>) {
        let (tx, rx) = watch::channel(Arc::new(initial));
        let reloading = tokio::sync::Mutex::new(());
        (Arc::new(HeadPublisher { tx, reloading }), rx)
    }

    /// The head published last.
    pub fn current(&self) -> Arc<HeadState> {
        self.tx.borrow().clone()
    }

    /// Publish `state` if it is larger than the published head. Returns whether it was.
    pub fn publish(&self, state: Arc<HeadState>) -> bool {
        self.tx.send_if_modified(|current| {
            if state.head.size > current.head.size {
                *current = state;
                true
            } else {
                false
            }
        })
    }

    /// Read the committed head from storage and publish it if it moved; returns the head
    /// published afterwards. One small query when nothing changed.
    pub async fn refresh<S: LogStorage>(
        &self,
        storage: &S,
    ) -> Result<Arc<HeadState>, StorageError> {
        let Some(stored) = storage.head().await? else {
            return Ok(self.current());
        };
        if stored.size > self.current().head.size {
            let _one = self.reloading.lock().await;
            // Whoever held the lock before may have published it already.
            if stored.size > self.current().head.size
                && let Some(state) = load_head(storage).await?
            {
                self.publish(Arc::new(state));
            }
        }
        Ok(self.current())
    }
}
