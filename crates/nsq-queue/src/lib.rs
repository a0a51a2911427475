//! Message storage for nsqd, independent of networking.
//!
//! Modules:
//!
//! * [`disk_queue`] — [`DiskQueue`], a synchronous queue of byte records whose
//!   files (`<name>.diskqueue.NNNNNN.dat`, `<name>.diskqueue.meta.dat`) are
//!   exactly those of go-diskqueue v1.1.0 as used by nsqd v1.3.0, so a data
//!   directory can move between the Go nsqd and this one in both directions.
//!   Optionally with acknowledged reads ([`DiskQueue::pop_tracked`] /
//!   [`DiskQueue::finish`], [`ReadTicket`]): a record stays on disk until
//!   its consumer is done with it.
//! * [`memory`] — [`MemoryQueue`], a bounded in-memory FIFO.
//! * [`spill`] — [`SpillQueue`], the per-topic/per-channel queue: memory first,
//!   overflow to an optional [`DiskQueue`] (none for ephemeral queues), items
//!   converted to records through [`QueueItem`].
//! * [`error`] — [`QueueError`].
//!
//! Records are opaque bytes here; nsqd supplies the message encoding by
//! implementing [`QueueItem`].

pub mod disk_queue;
pub mod error;
pub mod memory;
pub mod spill;

pub use disk_queue::{DiskQueue, DiskQueueOptions, ReadTicket};
pub use error::QueueError;
pub use memory::MemoryQueue;
pub use spill::{PutOutcome, QueueItem, SpillQueue};
