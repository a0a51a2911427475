//! Message storage for nsqd, independent of networking.
