//! Test support shared by the integration tests and the load generator: a native sync
//! client that drives `shared`'s client role over a real WebSocket.

pub mod native_client;
