//! Test support shared by the integration tests and the benchmarks: a native sync client
//! that drives `shared`'s client role over a real WebSocket, and headless Chromium.

pub mod chromium;
pub mod native_client;
