//! `/admin/people`: the people at the sites one runs — new accounts, roles per site,
//! password resets, disabling (which signs them out everywhere at once) — with when each
//! last synced and the devices their changes came from. Needs the network: accounts live
//! on the server.

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::directory::Role;

use super::texts::use_admin_texts;
use super::{admin_sites, when};
use crate::error::AppError;
use crate::i18n::{CurrentLanguage, use_texts};
use crate::server::{self, PersonView, SiteRole};
use crate::session::{SessionSite, use_session};

/// A role chooser per site: the person's role there, or none.
#[component]
fn RoleChoices(sites: Vec<SessionSite>, chosen: RwSignal<Vec<SiteRole>>) -> impl IntoView {
    let texts = use_texts();
    let admin_texts = use_admin_texts();
    sites
        .into_iter()
        .map(|site| {
            let id = site.id.clone();
            let current = {
                let id = id.clone();
                move || chosen.with(|roles| roles.iter().find(|chosen| chosen.site == id).map(|chosen| chosen.role))
            };
            let set = {
                let id = id.clone();
                move |event: leptos::ev::Event| {
                    // Empty is "no role here"; anything else is one of the options below.
                    let role = Role::parse(&event_target_value(&event)).ok();
                    chosen.update(|roles| {
                        roles.retain(|chosen| chosen.site != id);
                        if let Some(role) = role {
                            roles.push(SiteRole { site: id.clone(), role });
                        }
                    });
                }
            };
            view! {
                <label class="role-choice">
                    <span>{site.name.clone()}</span>
                    <select name=format!("role-{id}") on:change=set>
                        <option value="" selected={
                            let current = current.clone();
                            move || current().is_none()
                        }>{move || admin_texts.get().no_role}</option>
                        {Role::ALL.iter().map(|role| {
                            let (role, value) = (*role, role.as_str());
                            let current = current.clone();
                            view! { <option value=value selected=move || current() == Some(role)>{move || texts.get().role(role)}</option> }
                        }).collect_view()}
                    </select>
                </label>
            }
        })
        .collect_view()
}

#[component]
pub fn People() -> impl IntoView {
    let texts = use_admin_texts();
    let field_texts = use_texts();
    let current = use_session();
    let reload = RwSignal::new(0_u32);
    let people = LocalResource::new(move || {
        reload.track();
        let token = current.session.with(|session| session.as_ref().map(|session| session.token.clone()));
        async move { server::admin_people(&token.ok_or(AppError::SignedOut)?).await }
    });
    let sites = move || current.session.with(|session| session.as_ref().map(admin_sites).unwrap_or_default());
    let username = RwSignal::new(String::new());
    let display_name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let roles = RwSignal::new(Vec::<SiteRole>::new());
    let message = RwSignal::new(None::<(bool, String)>);
    // A refusal that concerns one field, shown under it: (field, what is wrong).
    let field_error = RwSignal::new(None::<(&'static str, String)>);
    let create = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(session) = current.session.get_untracked() else { return };
        let (name, display, secret, chosen) =
            (username.get_untracked(), display_name.get_untracked(), password.get_untracked(), roles.get_untracked());
        message.set(None);
        // What the phone can tell by itself, it tells before asking.
        let field_texts = crate::i18n::texts_in(crate::i18n::current_language());
        if shared::directory::Username::parse(name.trim()).is_err() {
            field_error.set(Some(("username", texts.get_untracked().bad_username.to_owned())));
            return;
        }
        if secret.chars().count() < 8 {
            field_error.set(Some(("password", field_texts.error_password_too_short.to_owned())));
            return;
        }
        field_error.set(None);
        spawn_local(async move {
            match server::create_user(&session.token, name.trim(), display.trim(), &secret, &chosen).await {
                Ok(()) => {
                    username.set(String::new());
                    display_name.set(String::new());
                    password.set(String::new());
                    message.set(Some((true, format!("{} {}", texts.get_untracked().saved, name.trim()))));
                    reload.update(|count| *count += 1);
                }
                Err(AppError::Refused(refused)) if field_of(&refused.code).is_some() => {
                    field_error.set(field_of(&refused.code).map(|field| (field, refused.message)));
                }
                Err(error) => message.set(Some((false, error.to_string()))),
            }
        });
    };
    // Found by name or user name as it is typed.
    let search = RwSignal::new(String::new());
    // Whether the list came; each row is kept while its person reads the same, so a
    // password or roles being entered in one stay when the list is read again.
    let loaded = Memo::new(move |_| people.with(|people| people.as_ref().map(|people| people.as_ref().map(|_| ()).map_err(Clone::clone))));
    let list = move || match loaded.get() {
        None => view! { <p class="muted">"…"</p> }.into_any(),
        Some(Err(error)) => view! { <p class="error" title=error.to_string()>{move || texts.get().needs_network}</p> }.into_any(),
        Some(Ok(())) => {
            let listed = move || {
                let wanted = search.get().trim().to_lowercase();
                people.with(|people| {
                    let all = people.as_ref().and_then(|people| people.as_ref().ok()).cloned().unwrap_or_default();
                    all.into_iter()
                        .filter(|person| {
                            wanted.is_empty()
                                || person.user.username.to_lowercase().contains(&wanted)
                                || person.user.display_name.to_lowercase().contains(&wanted)
                        })
                        .collect::<Vec<_>>()
                })
            };
            view! {
                <ul class="people">
                    <For each=listed key=|person| person.clone() let:person>
                        <PersonRow person=person sites=sites() reload=reload />
                    </For>
                </ul>
            }
            .into_any()
        }
    };
    view! {
        <section class="card" aria-labelledby="people">
            <p><a class="back" href="/admin">"← " {move || texts.get().administration}</a></p>
            <h1 id="people">{move || texts.get().people}</h1>
            <label class="search">
                <span>{move || texts.get().find_person}</span>
                <input type="search" name="search" data-search="people" autocomplete="off" prop:value=search on:input=move |event| search.set(event_target_value(&event)) />
            </label>
            {list}
        </section>
        <section class="card" aria-labelledby="new-person">
            <h2 id="new-person">{move || texts.get().new_person}</h2>
            <form class="form" data-form="new-person" on:submit=create>
                <div class="two-columns">
                    <label>
                        <span>{move || field_texts.get().username}</span>
                        <input name="username" required autocapitalize="none" autocomplete="off" prop:value=username on:input=move |event| username.set(event_target_value(&event)) />
                        {crate::fields::field_error(field_error, "username")}
                    </label>
                    <label>
                        <span>{move || texts.get().display_name}</span>
                        <input name="display-name" required prop:value=display_name on:input=move |event| display_name.set(event_target_value(&event)) />
                    </label>
                </div>
                <label>
                    <span>{move || texts.get().password}</span>
                    <input name="password" type="password" required minlength="8" autocomplete="new-password" prop:value=password on:input=move |event| password.set(event_target_value(&event)) />
                    {crate::fields::field_error(field_error, "password")}
                </label>
                <fieldset class="roles">
                    <legend>{move || texts.get().roles}</legend>
                    {move || view! { <RoleChoices sites=sites() chosen=roles /> }}
                </fieldset>
                {move || message.get().map(|(ok, text)| view! { <p class=if ok { "ok" } else { "error" } role="status">{text}</p> })}
                <button type="submit" class="primary">{move || texts.get().create}</button>
            </form>
        </section>
    }
}

/// One person: their roles at the administrator's sites (and elsewhere, read-only), when
/// they last synced, their devices, and the actions.
#[component]
fn PersonRow(person: PersonView, sites: Vec<SessionSite>, reload: RwSignal<u32>) -> impl IntoView {
    let texts = use_admin_texts();
    let field_texts = use_texts();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    let current = use_session();
    let runs = |site: &str| sites.iter().any(|known| known.id == site);
    let roles = RwSignal::new(person.user.roles.iter().filter(|role| runs(&role.site)).cloned().collect::<Vec<_>>());
    let elsewhere: Vec<SiteRole> = person.user.roles.iter().filter(|role| !runs(&role.site)).cloned().collect();
    let new_password = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(bool, String)>);
    let name = person.user.username.to_string();
    let act = move |action: Action| {
        let Some(session) = current.session.get_untracked() else { return };
        let name = name.clone();
        let (chosen, secret) = (roles.get_untracked(), new_password.get_untracked());
        spawn_local(async move {
            let outcome = match action {
                Action::SaveRoles => server::set_roles(&session.token, &name, &chosen).await,
                Action::ResetPassword => server::reset_password(&session.token, &name, &secret).await,
                Action::Disable(disabled) => server::set_disabled(&session.token, &name, disabled).await,
            };
            match outcome {
                Ok(()) => {
                    new_password.set(String::new());
                    message.set(Some((true, texts.get_untracked().saved.to_owned())));
                    if matches!(action, Action::Disable(_)) {
                        reload.update(|count| *count += 1);
                    }
                }
                Err(error) => message.set(Some((false, error.to_string()))),
            }
        });
    };
    let (save_roles, reset, toggle) = (act.clone(), act.clone(), act);
    let disabled = person.user.disabled;
    let last_sync = person.last_sync;
    let devices = person.devices.clone();
    view! {
        <li class="person" data-person=person.user.username.to_string() data-disabled=disabled.to_string()>
          <details>
            <summary>
                <strong>{person.user.display_name.clone()}</strong> " " <span class="muted">{person.user.username.to_string()}</span>
                {disabled.then(|| view! { " " <span class="badge" data-badge="disabled">{move || texts.get().disabled}</span> })}
            </summary>
            <p class="muted" data-last-sync=last_sync.map(|at| at.to_string()).unwrap_or_default()>
                {move || {
                    let texts = texts.get();
                    let synced = last_sync.map(|at| when(at, language.get())).unwrap_or_else(|| texts.never.to_owned());
                    format!("{}: {synced} · {}: {}", texts.last_sync, texts.devices, devices.len())
                }}
            </p>
            {(!person.devices.is_empty()).then(|| view! {
                <p class="muted devices"><code>{person.devices.iter().map(|actor| actor.chars().take(8).collect::<String>()).collect::<Vec<_>>().join(" · ")}</code></p>
            })}
            {(!elsewhere.is_empty()).then(|| view! {
                <p class="muted">{move || elsewhere.iter().map(|role| format!("{} @ {}", field_texts.get().role(role.role), role.site)).collect::<Vec<_>>().join(", ")}</p>
            })}
            <form class="form roles" data-form="roles" on:submit=move |event: leptos::ev::SubmitEvent| { event.prevent_default(); save_roles(Action::SaveRoles); }>
                <RoleChoices sites=sites.clone() chosen=roles />
                <button type="submit">{move || texts.get().save_roles}</button>
            </form>
            <form class="inline-form" data-form="password" on:submit=move |event: leptos::ev::SubmitEvent| { event.prevent_default(); reset(Action::ResetPassword); }>
                <input name="new-password" type="password" minlength="8" autocomplete="new-password" placeholder=move || texts.get().new_password prop:value=new_password on:input=move |event| new_password.set(event_target_value(&event)) />
                <button type="submit">{move || texts.get().reset_password}</button>
            </form>
            <button type="button" class=if disabled { "" } else { "danger" } data-action=if disabled { "enable" } else { "disable" } on:click=move |_| toggle(Action::Disable(!disabled))>
                {move || if disabled { texts.get().enable } else { texts.get().disable }}
            </button>
            {move || message.get().map(|(ok, text)| view! { <p class=if ok { "ok" } else { "error" } role="status">{text}</p> })}
          </details>
        </li>
    }
}

/// The field of the new-person form a refusal's code concerns, if one.
fn field_of(code: &str) -> Option<&'static str> {
    match code {
        "exists" => Some("username"),
        "password_too_short" => Some("password"),
        _ => None,
    }
}

#[derive(Clone, Copy)]
enum Action {
    SaveRoles,
    ResetPassword,
    Disable(bool),
}
