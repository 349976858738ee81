//! Sites, the people who work at them, and which devices' changes are whose; kept in sled.
//!
//! Trees: `sites` (site id → [`SiteRecord`] as JSON), `users` (user name → [`UserRecord`]
//! as JSON), `actors` (Automerge actor id bytes → the user name it is bound to) and
//! `syncs` (user name → when they last synced, milliseconds big-endian).
//! Passwords are stored only as argon2 hashes.

use std::collections::BTreeMap;

use anyhow::Context;
use argon2::Argon2;
use password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use serde::{Deserialize, Serialize};
use shared::directory::{Role, SiteId, Username};
use shared::protocol::DocumentId;

use crate::Storage;
use crate::kv;
use crate::storage::trees;

/// A site as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteRecord {
    pub id: SiteId,
    /// The name people use, usually Chinese (总部).
    pub name: String,
    /// The site's catalog document (places, assets, stock, templates), once created.
    #[serde(default)]
    pub catalog: Option<DocumentId>,
    /// Whether people without an account may report faults from its labels.
    #[serde(default)]
    pub public: shared::public::PublicReporting,
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
    /// A disabled user cannot log in, and tokens issued before are refused.
    #[serde(default)]
    pub disabled: bool,
    /// Rises whenever the user's tokens are revoked; a token names the generation it was
    /// issued under.
    #[serde(default)]
    pub token_generation: u64,
}

impl UserRecord {
    /// The user's role at `site`, if any.
    pub fn role_at(&self, site: &SiteId) -> Option<Role> {
        self.roles.iter().find(|(at, _)| at == site).map(|(_, role)| *role)
    }

    /// Whether the user administers any site.
    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(|(_, role)| *role == Role::Admin)
    }
}

/// What became of an attempt to bind an actor to a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Binding {
    /// The actor is this user's (now, or since earlier).
    Theirs,
    /// The actor was bound to someone else first.
    Taken { by: Username },
}

/// Read and write access to sites, users and actor bindings.
#[derive(Clone)]
pub struct Directory {
    sites: kv::Tree,
    users: kv::Tree,
    actors: kv::Tree,
    syncs: kv::Tree,
}

impl Directory {
    pub fn open(storage: &Storage) -> anyhow::Result<Directory> {
        Ok(Directory {
            sites: storage.tree(trees::SITES)?,
            users: storage.tree(trees::USERS)?,
            actors: storage.tree(trees::ACTORS)?,
            syncs: storage.tree(trees::SYNCS)?,
        })
    }

    /// Whether no site and no user exists yet.
    pub fn is_empty(&self) -> bool {
        self.sites.is_empty() && self.users.is_empty()
    }

    /// Adds or replaces a site.
    pub fn put_site(&self, site: &SiteRecord) -> anyhow::Result<()> {
        self.sites.insert(site.id.as_str(), serde_json::to_vec(site)?).context("cannot store a site")?;
        Ok(())
    }

    /// Adds or replaces a user.
    pub fn put_user(&self, user: &UserRecord) -> anyhow::Result<()> {
        self.users.insert(user.username.as_str(), serde_json::to_vec(user)?).context("cannot store a user")?;
        Ok(())
    }

    /// Adds a site unless one with its id exists; says whether it was added.
    pub fn create_site(&self, site: &SiteRecord) -> anyhow::Result<bool> {
        let swapped =
            self.sites.compare_and_swap(site.id.as_str(), None::<&[u8]>, Some(serde_json::to_vec(site)?)).context("cannot store a site")?;
        Ok(swapped.is_ok())
    }

    /// Adds a user unless one with the name exists; says whether it was added.
    pub fn create_user(&self, user: &UserRecord) -> anyhow::Result<bool> {
        let swapped = self
            .users
            .compare_and_swap(user.username.as_str(), None::<&[u8]>, Some(serde_json::to_vec(user)?))
            .context("cannot store a user")?;
        Ok(swapped.is_ok())
    }

    /// Changes a stored user atomically; `None` if there is no such user.
    pub fn update_user(&self, username: &Username, change: impl Fn(&mut UserRecord)) -> anyhow::Result<Option<UserRecord>> {
        let mut updated = None;
        let mut failure = None;
        self.users
            .fetch_and_update(username.as_str(), |old| {
                let mut user: UserRecord = match serde_json::from_slice(old?) {
                    Ok(user) => user,
                    Err(error) => {
                        failure = Some(error);
                        return old.map(<[u8]>::to_vec);
                    }
                };
                change(&mut user);
                let bytes = serde_json::to_vec(&user).expect("a user serialises");
                updated = Some(user);
                Some(bytes)
            })
            .context("cannot update a user")?;
        if let Some(error) = failure {
            return Err(anyhow::Error::new(error).context("a stored user is unreadable"));
        }
        Ok(updated)
    }

    pub fn site(&self, id: &SiteId) -> anyhow::Result<Option<SiteRecord>> {
        let value = self.sites.get(id.as_str())?;
        value.map(|value| serde_json::from_slice(&value).context("a stored site is unreadable")).transpose()
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

    /// Binds the actor (hex) to `user` unless it is bound already, atomically: of two
    /// people sending the same new actor at once, exactly one gets it.
    pub fn bind_actor(&self, actor: &str, user: &Username) -> anyhow::Result<Binding> {
        let key = actor_key(actor)?;
        let swapped = self.actors.compare_and_swap(&key, None::<&[u8]>, Some(user.as_str().as_bytes())).context("cannot bind an actor")?;
        match swapped {
            Ok(()) => Ok(Binding::Theirs),
            Err(conflict) => {
                let owner = conflict.current.context("a bound actor has an owner")?;
                let owner = Username::parse(&String::from_utf8_lossy(&owner)).context("a bound actor names an invalid user")?;
                Ok(if &owner == user { Binding::Theirs } else { Binding::Taken { by: owner } })
            }
        }
    }

    /// The user an actor (hex) is bound to.
    pub fn actor_owner(&self, actor: &str) -> anyhow::Result<Option<Username>> {
        let Some(owner) = self.actors.get(actor_key(actor)?)? else { return Ok(None) };
        Ok(Some(Username::parse(&String::from_utf8_lossy(&owner)).context("a bound actor names an invalid user")?))
    }

    /// The actors (hex) bound to `user`: the devices and app installs they have worked on.
    pub fn actors_of(&self, user: &Username) -> anyhow::Result<Vec<String>> {
        Ok(self.actors_by_user()?.remove(user.as_str()).unwrap_or_default())
    }

    /// Every user's actors (hex), in one pass over the bindings.
    pub fn actors_by_user(&self) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
        let mut actors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for entry in &self.actors {
            let (actor, owner) = entry?;
            actors.entry(String::from_utf8_lossy(&owner).into_owned()).or_default().push(hex::encode(actor));
        }
        Ok(actors)
    }
}

impl Directory {
    /// Notes that `user` synced at `at` (milliseconds). Not flushed on its own: the time
    /// is a hint for administrators, made durable with the next write that is.
    pub fn note_sync(&self, user: &Username, at: i64) -> anyhow::Result<()> {
        self.syncs.insert(user.as_str(), at.to_be_bytes()).context("cannot note a sync")?;
        Ok(())
    }

    /// When `user` last synced, if ever.
    pub fn last_sync(&self, user: &Username) -> anyhow::Result<Option<i64>> {
        let Some(bytes) = self.syncs.get(user.as_str())? else { return Ok(None) };
        let bytes: [u8; 8] = bytes.as_ref().try_into().context("a stored sync time is unreadable")?;
        Ok(Some(i64::from_be_bytes(bytes)))
    }
}

fn actor_key(actor: &str) -> anyhow::Result<Vec<u8>> {
    hex::decode(actor)
        .ok()
        .filter(|bytes| !bytes.is_empty() && bytes.len() <= 64)
        .with_context(|| format!("an actor id must be hex, got {actor:?}"))
}

/// Hashes a password with argon2id and a fresh random salt. Deliberately slow: run it on
/// the blocking pool when serving requests.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let hash =
        Argon2::default().hash_password(password.as_bytes(), &salt).map_err(|error| anyhow::anyhow!("cannot hash a password: {error}"))?;
    Ok(hash.to_string())
}

/// Whether `password` matches the stored hash. As slow as [`hash_password`].
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory() -> (tempfile::TempDir, Directory) {
        let data = tempfile::tempdir().unwrap();
        let storage = Storage::open(data.path()).unwrap();
        let directory = Directory::open(&storage).unwrap();
        (data, directory)
    }

    #[test]
    fn an_actor_belongs_to_the_first_user_who_sends_it() {
        let (_data, directory) = directory();
        let (li, zhao) = (Username::parse("li").unwrap(), Username::parse("zhao").unwrap());
        assert_eq!(directory.bind_actor("0a1b", &li).unwrap(), Binding::Theirs);
        assert_eq!(directory.bind_actor("0a1b", &li).unwrap(), Binding::Theirs, "binding again is harmless");
        assert_eq!(directory.bind_actor("0A1B", &zhao).unwrap(), Binding::Taken { by: li.clone() }, "hex case does not matter");
        assert_eq!(directory.actor_owner("0a1b").unwrap(), Some(li.clone()));
        assert_eq!(directory.actors_of(&li).unwrap(), ["0a1b"]);
        assert!(directory.bind_actor("not hex", &zhao).is_err());
        assert!(directory.bind_actor("abc", &zhao).is_err(), "odd length");
    }

    #[test]
    fn users_are_created_once_and_updated_in_place() {
        let (_data, directory) = directory();
        let user = UserRecord {
            username: Username::parse("li").unwrap(),
            display_name: "李".to_owned(),
            password_hash: hash_password("secret").unwrap(),
            roles: vec![(SiteId::parse("hq").unwrap(), Role::Inspector)],
            disabled: false,
            token_generation: 0,
        };
        assert!(directory.create_user(&user).unwrap());
        assert!(!directory.create_user(&user).unwrap(), "the name is taken");
        let disabled = directory.update_user(&user.username, |user| user.disabled = true).unwrap().unwrap();
        assert!(disabled.disabled);
        assert_eq!(directory.user(&user.username).unwrap(), Some(disabled));
        assert_eq!(directory.update_user(&Username::parse("nobody").unwrap(), |_| {}).unwrap(), None);
        assert!(verify_password("secret", &user.password_hash));
        assert!(!verify_password("Secret", &user.password_hash));
        assert!(!verify_password("secret", "not a hash"));
    }
}
