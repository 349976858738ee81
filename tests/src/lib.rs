//! Test support shared by the integration tests and the benchmarks: a native sync client
//! that drives `shared`'s client role over a real WebSocket, the load generator built on
//! it, and headless Chromium.

pub mod chromium;
pub mod load;
pub mod native_client;
