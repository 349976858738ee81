//! Sites and the people who work at them, kept in sled.
//!
//! Trees: `sites` (site id → [`SiteRecord`] as JSON) and `users` (user name →
//! [`UserRecord`] as JSON). Passwords are stored only as argon2 hashes.

use anyhow::Context;
use argon2::Argon2;
use password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use serde::{Deserialize, Serialize};
use shared::directory::{Role, SiteId, Username};

use crate::Storage;

/// A site as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteRecord {
    pub id: SiteId,
    /// The name people use, usually Chinese (总部).
    pub name: String,
}

/// A person as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub username: Username,
    pub display_name: String,
    /// PHC string of the argon2 hash.
    pub password_hash: String,
    /// The roles this person holds, per site.
    pub roles: Vec<(SiteId, Role)>,
}

/// Read and write access to sites and users.
#[derive(Clone)]
pub struct Directory {
    sites: sled::Tree,
    users: sled::Tree,
}

impl Directory {
    pub fn open(storage: &Storage) -> anyhow::Result<Directory> {
        Ok(Directory { sites: storage.tree("sites")?, users: storage.tree("users")? })
    }

    /// Whether no site and no user exists yet.
    pub fn is_empty(&self) -> bool {
        self.sites.is_empty() && self.users.is_empty()
    }

    pub fn put_site(&self, site: &SiteRecord) -> anyhow::Result<()> {
        self.sites.insert(site.id.as_str(), serde_json::to_vec(site)?).context("cannot store a site")?;
        Ok(())
    }

    pub fn put_user(&self, user: &UserRecord) -> anyhow::Result<()> {
        self.users.insert(user.username.as_str(), serde_json::to_vec(user)?).context("cannot store a user")?;
        Ok(())
    }

    pub fn sites(&self) -> anyhow::Result<Vec<SiteRecord>> {
        self.sites.iter().values().map(|value| Ok(serde_json::from_slice(&value?)?)).collect()
    }

    pub fn user(&self, username: &Username) -> anyhow::Result<Option<UserRecord>> {
        let value = self.users.get(username.as_str())?;
        value.map(|value| serde_json::from_slice(&value).context("a stored user is unreadable")).transpose()
    }

    pub fn users(&self) -> anyhow::Result<Vec<UserRecord>> {
        self.users.iter().values().map(|value| Ok(serde_json::from_slice(&value?)?)).collect()
    }
}

/// Hashes a password with argon2id and a fresh random salt. Deliberately slow: run it on
/// the blocking pool when serving requests.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|error| anyhow::anyhow!("cannot hash a password: {error}"))?;
    Ok(hash.to_string())
}
