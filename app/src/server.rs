//! Plain HTTP calls to the Houqin server.

use shared::health::Health;

/// Asks the server whether it is up. Any failure (offline, server down, a proxy's error
/// page) reads as "not reachable" with a reason for the curious.
pub async fn fetch_health() -> Result<Health, String> {
    let response = gloo_net::http::Request::get("/healthz").send().await.map_err(|error| error.to_string())?;
    if !response.ok() {
        return Err(format!("the server answered {}", response.status()));
    }
    response.json::<Health>().await.map_err(|error| error.to_string())
}
