//! Test support shared by the integration tests and the benchmarks: a native sync client
//! that drives `shared`'s client role over a real WebSocket, the load generator built on
//! it, headless Chromium, and a disk that loses what was not fsynced when its power is
//! cut.

pub mod chromium;
pub mod load;
pub mod native_client;
pub mod power_cut;
