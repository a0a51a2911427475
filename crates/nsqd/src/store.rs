//! The queue seam: where a topic's or channel's waiting messages live.
//!
//! Topics and channels talk to [`MessageStore`] only, so the storage behind it
//! (memory today, memory spilling to disk with the durable queue) can change
//! without touching delivery logic.

use std::collections::VecDeque;

/// A FIFO of waiting items with nsqd's depth accounting.
#[derive(Debug)]
pub struct MessageStore<T> {
    memory: VecDeque<T>,
}

impl<T> Default for MessageStore<T> {
    fn default() -> Self {
        MessageStore {
            memory: VecDeque::new(),
        }
    }
}

impl<T> MessageStore<T> {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an item.
    pub fn push(&mut self, item: T) {
        self.memory.push_back(item);
    }

    /// Takes the oldest item.
    pub fn pop(&mut self) -> Option<T> {
        self.memory.pop_front()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.memory.is_empty()
    }

    /// Items waiting, memory and disk together (`depth` in `/stats`).
    pub fn depth(&self) -> u64 {
        self.memory.len() as u64
    }

    /// Items waiting on disk (`backend_depth` in `/stats`).
    pub fn backend_depth(&self) -> u64 {
        0
    }

    /// Drops everything waiting.
    pub fn clear(&mut self) {
        self.memory.clear();
    }
}
