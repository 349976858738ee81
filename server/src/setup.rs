//! The commands of `houqin-server`: setup (`site …`, `user …`), run against the data
//! directory of a stopped server, and `backup` and `restore` (see [`crate::backup`]).

use std::io::BufRead as _;

use anyhow::Context;
use shared::directory::Username;

use shared::api::{NewSite, NewUser};

use crate::admin::{SETUP_USER, create_site, create_user, parse_role_arg, set_disabled};
use crate::config::{Command, Config, ProjectionsCommand, SiteCommand, TlsCommand, UserCommand};
use crate::directory::Directory;
use crate::documents::DocumentStore;
use crate::{AppError, Storage};

/// Runs one command; a setup command's writes are flushed before it returns.
pub fn run(config: &Config, command: Command) -> anyhow::Result<()> {
    match command {
        // A backup may go through a running server and a restore makes a new database:
        // neither opens the database here.
        Command::Backup { to } => crate::backup::back_up(&config.data, config.database_url.as_deref(), &to),
        Command::Restore { from } => crate::backup::restore(&config.data, config.database_url.as_deref(), &from),
        Command::Salvage { .. } if config.database_url.is_some() => {
            anyhow::bail!("salvage copies what a damaged sled database still holds; PostgreSQL recovers its own (see its documentation)")
        }
        Command::Salvage { to } => {
            let salvaged = crate::check::salvage(&config.data, &to)?;
            println!("copied {} keys into {}", salvaged.keys, to.display());
            for lost in salvaged.cut_short.iter().chain(&salvaged.check.problems) {
                println!("lost: {lost}");
            }
            println!(
                "the copy holds {} documents and {} files; start the server on it with --data {}",
                salvaged.check.documents,
                salvaged.check.files,
                to.display()
            );
            Ok(())
        }
        Command::Check => {
            let storage = Storage::open_configured(config.database_url.as_deref(), &config.data, false)?;
            let report = crate::check::check(&storage)?;
            println!("read {} keys in {} trees: {} documents, {} files", report.keys, report.trees, report.documents, report.files);
            for problem in &report.problems {
                println!("does not read: {problem}");
            }
            match report.problems.len() {
                0 => {
                    println!("everything reads");
                    Ok(())
                }
                count => {
                    anyhow::bail!("{count} things do not read: restore the last backup, or keep using this database knowing they are lost")
                }
            }
        }
        Command::Tls(TlsCommand::Init { hosts, addresses }) => {
            let made = crate::tls::init(&config.data, &hosts, &addresses)?;
            let dir = made.dir.display();
            if made.new_authority {
                println!("made a certificate authority: {dir}/ca.pem (phones trust it once, from /setup)");
            } else {
                println!("kept the certificate authority {dir}/ca.pem: phones that trust it need nothing new");
            }
            println!("its SHA-256 fingerprint: {}", made.authority_fingerprint);
            let names: Vec<String> = hosts.iter().cloned().chain(addresses.iter().map(ToString::to_string)).collect();
            println!("made a server certificate for {}: {dir}/server.pem and server.key", names.join(", "));
            println!("a server started on this --data serves HTTPS; one serving HTTPS from it already takes the new certificate on SIGHUP");
            Ok(())
        }
        Command::Site(command) => set_up(config, |storage, directory| site(storage, directory, command)),
        Command::User(command) => set_up(config, |_, directory| user(directory, command)),
        Command::Projections(ProjectionsCommand::Rebuild) => set_up(config, |storage, _| {
            let started = std::time::Instant::now();
            let rebuilt = crate::projections::Projections::open(storage)?.rebuild()?;
            println!(
                "projected {} of {} documents ({} unreadable) in {:.1} s",
                rebuilt.projected,
                rebuilt.documents,
                rebuilt.unreadable,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }),
    }
}

/// Opens the database, runs `command` on it and flushes.
fn set_up(config: &Config, command: impl FnOnce(&Storage, &Directory) -> anyhow::Result<()>) -> anyhow::Result<()> {
    let storage = Storage::open_configured(config.database_url.as_deref(), &config.data, false)?;
    let directory = Directory::open(&storage)?;
    command(&storage, &directory)?;
    storage.durable()()?;
    Ok(())
}

fn site(storage: &Storage, directory: &Directory, command: SiteCommand) -> anyhow::Result<()> {
    match command {
        SiteCommand::Add { id, name } => {
            let store = DocumentStore::open(storage)?;
            let site = create_site(directory, &store, &NewSite { id, name }, &Username::parse(SETUP_USER)?).map_err(explain)?;
            let catalog = site.catalog.map(|id| id.url()).unwrap_or_default();
            println!("created site {} ({}), catalog {catalog}", site.id, site.name);
        }
        SiteCommand::List => {
            for site in directory.sites()? {
                println!("{:<12} {:<16} {}", site.id, site.name, site.catalog.map(|id| id.url()).unwrap_or_default());
            }
        }
    }
    Ok(())
}

fn user(directory: &Directory, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add { username, name, roles } => {
            let roles = roles.iter().map(|role| parse_role_arg(role)).collect::<Result<Vec<_>, _>>().map_err(anyhow::Error::msg)?;
            let password = read_password()?;
            let user = create_user(directory, &NewUser { username, display_name: name, password, roles }, |_| true).map_err(explain)?;
            println!("created user {} ({})", user.username, user.display_name);
        }
        UserCommand::Disable { username } => {
            let user = set_disabled(directory, &username, true).map_err(explain)?;
            println!("disabled {}: their tokens are refused from now on", user.username);
        }
        UserCommand::Enable { username } => {
            let user = set_disabled(directory, &username, false).map_err(explain)?;
            println!("enabled {}: they can sign in again", user.username);
        }
        UserCommand::List => {
            for user in directory.users()? {
                let roles: Vec<String> = user.roles.iter().map(|(site, role)| format!("{role}@{site}")).collect();
                let state = if user.disabled { " (disabled)" } else { "" };
                println!("{:<12} {:<10} {}{state}", user.username, user.display_name, roles.join(", "));
            }
        }
    }
    Ok(())
}

/// The new user's password: `HOUQIN_PASSWORD`, or the first line of standard input.
fn read_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("HOUQIN_PASSWORD") {
        return Ok(password);
    }
    eprintln!("password for the new user (one line):");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// An API error as a command-line error.
fn explain(error: AppError) -> anyhow::Error {
    match error {
        AppError::Internal(error) => error,
        AppError::NotFound => anyhow::anyhow!("no such user"),
        other => anyhow::anyhow!("{other}"),
    }
}
