//! `GET /api/sites/{site}/people`: who works at a site and in what role, so a manager's
//! phone can offer the site's technicians when dispatching (and keep the list for offline
//! use). Anyone with a role at the site may ask; others get 404, as for an unknown site.
//! Disabled users are left out: nobody should be given work they cannot sign in to do.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use shared::api::Person;
use shared::directory::SiteId;

use crate::auth::Session;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/sites/{site}/people", get(site_people))
}

async fn site_people(State(state): State<AppState>, session: Session, Path(site): Path<String>) -> Result<Json<Vec<Person>>, AppError> {
    let site = SiteId::parse(&site).map_err(|_| AppError::NotFound)?;
    if session.role_at(&site).is_none() {
        return Err(AppError::NotFound);
    }
    let mut people: Vec<Person> = state
        .directory
        .users()?
        .into_iter()
        .filter(|user| !user.disabled)
        .filter_map(|user| {
            let role = user.role_at(&site)?;
            Some(Person { username: user.username, display_name: user.display_name, role })
        })
        .collect();
    people.sort_by(|a, b| (a.role, &a.username).cmp(&(b.role, &b.username)));
    Ok(Json(people))
}
