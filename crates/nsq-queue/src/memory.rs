//! Bounded in-memory FIFO (nsqd's `--mem-queue-size` part of a queue).

use std::collections::VecDeque;

/// A FIFO holding at most `capacity` items.
///
/// Storage grows on demand (amortised, never per item) and is kept once
/// grown, so a busy queue stops allocating; an idle queue with a large
/// capacity costs nothing up front.
#[derive(Debug)]
pub struct MemoryQueue<T> {
    items: VecDeque<T>,
    capacity: usize,
}

impl<T> MemoryQueue<T> {
    /// Creates an empty queue that holds at most `capacity` items
    /// (0: it never holds anything).
    pub fn new(capacity: usize) -> Self {
        MemoryQueue {
            items: VecDeque::new(),
            capacity,
        }
    }

    /// Maximum number of items.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Number of items held.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether no item is held.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether another item would exceed the capacity.
    pub fn is_full(&self) -> bool {
        self.items.len() >= self.capacity
    }

    /// Appends `item`, or hands it back if the queue is full.
    pub fn try_push(&mut self, item: T) -> Result<(), T> {
        if self.is_full() {
            return Err(item);
        }
        self.items.push_back(item);
        Ok(())
    }

    /// Puts `item` back at the front (used to undo a [`MemoryQueue::pop`]);
    /// may briefly exceed the capacity by that one item.
    pub fn push_front(&mut self, item: T) {
        self.items.push_front(item);
    }

    /// Removes and returns the oldest item.
    pub fn pop(&mut self) -> Option<T> {
        self.items.pop_front()
    }

    /// The oldest item, without removing it.
    pub fn front(&self) -> Option<&T> {
        self.items.front()
    }

    /// Drops every item.
    pub fn clear(&mut self) {
        self.items.clear();
    }

    /// Iterates over the items, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_fifo() {
        let mut q = MemoryQueue::new(2);
        assert!(q.is_empty());
        assert_eq!(q.try_push(1), Ok(()));
        assert_eq!(q.try_push(2), Ok(()));
        assert!(q.is_full());
        assert_eq!(q.try_push(3), Err(3));
        assert_eq!(q.front(), Some(&1));
        assert_eq!(q.pop(), Some(1));
        q.push_front(0);
        assert_eq!(q.iter().copied().collect::<Vec<_>>(), vec![0, 2]);
        q.clear();
        assert_eq!(q.len(), 0);
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn zero_capacity_holds_nothing() {
        let mut q = MemoryQueue::new(0);
        assert!(q.is_full());
        assert_eq!(q.try_push("x"), Err("x"));
        assert_eq!(q.capacity(), 0);
    }
}
