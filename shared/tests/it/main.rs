//! Tests of `shared` across replicas, versions and the network, one binary: merge
//! properties over random edits, documents saved by earlier schema versions, and the sync
//! protocol's client and server roles over a simulated network.

mod merge;
mod meters;
mod migrations;
mod policy;
mod sync;
