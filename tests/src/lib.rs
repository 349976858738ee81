//! Test support shared by the integration tests and the benchmarks: a native sync client
//! that drives `shared`'s client role over a real WebSocket, the load generator built on
//! it, headless Chromium, a disk that loses what was not fsynced when its power is cut,
//! and a PostgreSQL cluster of a test's own.

pub mod chromium;
pub mod load;
pub mod native_client;
pub mod postgres;
pub mod power_cut;
