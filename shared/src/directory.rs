//! Who works where: sites, user names and roles, parsed once at the edge.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A value that is not a valid site id, user name or role.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: {hint}")]
pub struct InvalidName {
    /// Which kind of name was expected.
    pub kind: &'static str,
    /// The offending input.
    pub value: String,
    hint: &'static str,
}

fn parse_slug(kind: &'static str, value: &str) -> Result<String, InvalidName> {
    let valid = (1..=32).contains(&value.len())
        && value.starts_with(|c: char| c.is_ascii_lowercase())
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if valid {
        Ok(value.to_owned())
    } else {
        Err(InvalidName {
            kind,
            value: value.to_owned(),
            hint: "use 1 to 32 lowercase ASCII letters, digits, '-' or '_', starting with a letter",
        })
    }
}

macro_rules! slug_newtype {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses an untrusted value.
            pub fn parse(value: &str) -> Result<$name, InvalidName> {
                parse_slug($kind, value).map($name)
            }

            /// The id as written in URLs, keys and documents.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidName;
            fn try_from(value: String) -> Result<$name, InvalidName> {
                $name::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        // Read wherever a name as text is wanted (a URL, a key, a map of names); it cannot
        // be changed through this, so it stays valid.
        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        // Compared with names as typed or read from a URL, without parsing those first.
        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

slug_newtype!(
    /// A site of the organisation (a campus, a plant), e.g. `hq`.
    SiteId,
    "site id"
);
slug_newtype!(
    /// A person's login name, e.g. `inspector`.
    Username,
    "user name"
);

/// What a person may do at a site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Walks safety rounds and answers checklists.
    Inspector,
    /// Checks dormitory rooms.
    DormStaff,
    /// Works repair orders.
    Technician,
    /// Keeps the store: movements and stocktakes.
    Storekeeper,
    /// Dispatches work, approves stocktakes, reviews results.
    Manager,
    /// Sets up sites, people and templates.
    Admin,
}

impl Role {
    /// Dispatches, reviews, approves: managers and administrators.
    pub const fn manages(self) -> bool {
        matches!(self, Role::Manager | Role::Admin)
    }

    /// Counts stock and records movements: store keepers and managers.
    pub const fn keeps_store(self) -> bool {
        matches!(self, Role::Storekeeper | Role::Manager | Role::Admin)
    }

    /// Starts and answers rounds: inspectors, dorm staff and managers.
    pub const fn walks_rounds(self) -> bool {
        matches!(self, Role::Inspector | Role::DormStaff | Role::Manager | Role::Admin)
    }

    /// Every role, least to most privileged.
    pub const ALL: [Role; 6] = [Role::Inspector, Role::DormStaff, Role::Technician, Role::Storekeeper, Role::Manager, Role::Admin];

    /// The name used in the API and in storage.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Inspector => "inspector",
            Role::DormStaff => "dorm_staff",
            Role::Technician => "technician",
            Role::Storekeeper => "storekeeper",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    /// Parses an untrusted role name.
    pub fn parse(value: &str) -> Result<Role, InvalidName> {
        Role::ALL.into_iter().find(|role| role.as_str() == value).ok_or_else(|| InvalidName {
            kind: "role",
            value: value.to_owned(),
            hint: "expected one of inspector, dorm_staff, technician, storekeeper, manager, admin",
        })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_ids_are_checked_once_at_the_edge() {
        assert_eq!(SiteId::parse("plant2").unwrap().as_str(), "plant2");
        let error = SiteId::parse("Plant 2").unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid site id \"Plant 2\": use 1 to 32 lowercase ASCII letters, digits, '-' or '_', starting with a letter"
        );
        assert!(SiteId::parse("").is_err());
        assert!(SiteId::parse("2plant").is_err());
        assert!(SiteId::parse(&"a".repeat(33)).is_err());
    }

    #[test]
    fn ids_and_roles_refuse_invalid_json() {
        let site: SiteId = serde_json::from_str("\"hq\"").unwrap();
        assert_eq!(site.as_str(), "hq");
        assert!(serde_json::from_str::<SiteId>("\"总部\"").is_err());
        assert_eq!(serde_json::to_string(&Role::DormStaff).unwrap(), "\"dorm_staff\"");
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert_eq!(Role::parse("boss").unwrap_err().kind, "role");
    }
}
