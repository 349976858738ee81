//! The body of `GET /healthz`, read by the app to tell "server reachable" from "offline".

use serde::{Deserialize, Serialize};

/// What the server says about itself when asked whether it is up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Always `"ok"` when the server answers at all; a server that cannot serve says nothing.
    pub status: String,
    /// The server's release, so a phone can notice it runs an older app.
    pub version: String,
    /// The server's disk is nearly full: it serves what it has but stores nothing more
    /// (changes stay on the phones) until an administrator frees space.
    #[serde(default)]
    pub disk_full: bool,
    /// The server was started on a damaged database and serves what still reads
    /// (`--allow-damaged`): an administrator restores a backup or salvages.
    #[serde(default)]
    pub damaged: bool,
    /// The server keeps its data in a database it cannot reach now (PostgreSQL,
    /// `--database-url`): answered with 503, so a load balancer sends phones elsewhere.
    #[serde(default)]
    pub database_unreachable: bool,
}

impl Health {
    /// The answer of a healthy server of this release.
    pub fn ok() -> Health {
        Health {
            status: "ok".to_owned(),
            version: crate::VERSION.to_owned(),
            disk_full: false,
            damaged: false,
            database_unreachable: false,
        }
    }
}
