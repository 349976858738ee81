//! Demo data for `--demo`: two sites and one user per role, all with password `demo`.
//!
//! Seeding touches only an empty database, so restarting with `--demo` never resets
//! or duplicates anything people have entered since.

use shared::directory::{Role, SiteId, Username};

use crate::Storage;
use crate::directory::{Directory, SiteRecord, UserRecord, hash_password};

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "demo";

/// A demo login as printed at start-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoLogin {
    pub username: String,
    pub roles: String,
}

const SITES: &[(&str, &str)] = &[("hq", "总部"), ("plant2", "二厂")];

/// A demo user: user name, display name, roles per site.
type DemoUser = (&'static str, &'static str, &'static [(&'static str, Role)]);

const USERS: &[DemoUser] = &[
    ("admin", "系统管理员", &[("hq", Role::Admin), ("plant2", Role::Admin)]),
    ("manager", "王经理", &[("hq", Role::Manager), ("plant2", Role::Manager)]),
    ("inspector", "李安全员", &[("hq", Role::Inspector)]),
    ("dorm", "赵宿管", &[("plant2", Role::DormStaff)]),
    ("tech", "张师傅", &[("hq", Role::Technician), ("plant2", Role::Technician)]),
    ("store", "陈库管", &[("hq", Role::Storekeeper)]),
];

/// Seeds the demo sites and users if the database is empty, and returns the logins either
/// way (a database seeded earlier still has them unless someone changed them).
pub async fn seed(storage: &Storage) -> anyhow::Result<Vec<DemoLogin>> {
    let directory = Directory::open(storage)?;
    if directory.is_empty() {
        let seeding = tokio::task::spawn_blocking(move || seed_directory(&directory));
        seeding.await??;
        storage.flush().await?;
        tracing::info!("seeded demo sites and users");
    } else {
        tracing::info!("the database already has sites or users; demo data is seeded only into an empty one");
    }
    Ok(logins())
}

fn seed_directory(directory: &Directory) -> anyhow::Result<()> {
    for (id, name) in SITES {
        directory.put_site(&SiteRecord { id: SiteId::parse(id)?, name: (*name).to_owned() })?;
    }
    for (username, display_name, roles) in USERS {
        let roles = roles.iter().map(|(site, role)| Ok((SiteId::parse(site)?, *role))).collect::<anyhow::Result<_>>()?;
        directory.put_user(&UserRecord {
            username: Username::parse(username)?,
            display_name: (*display_name).to_owned(),
            password_hash: hash_password(DEMO_PASSWORD)?,
            roles,
        })?;
    }
    Ok(())
}

/// The demo users with their roles, as a newcomer needs them.
pub fn logins() -> Vec<DemoLogin> {
    USERS
        .iter()
        .map(|(username, _, roles)| DemoLogin {
            username: (*username).to_owned(),
            roles: roles.iter().map(|(site, role)| format!("{role}@{site}")).collect::<Vec<_>>().join(", "),
        })
        .collect()
}

/// Prints the demo logins to standard output.
pub fn print_logins(logins: &[DemoLogin]) {
    println!("Demo logins (password \"{DEMO_PASSWORD}\" for all):");
    for login in logins {
        println!("  {:<10} {}", login.username, login.roles);
    }
}
