//! Tests of `shared`'s documents across replicas and versions, one binary: merge
//! properties over random schedules, and documents saved by earlier schema versions.

mod merge;
mod migrations;
