//! Signing in: user name and password, once online; afterwards the phone keeps the session.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n::use_texts;
use crate::pages::home::ServerStatus;
use crate::server::{SignInError, sign_in};
use crate::session::{self, use_session};

#[component]
pub fn SignIn() -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<SignInError>);

    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let (name, secret) = (username.get_untracked().trim().to_owned(), password.get_untracked());
        spawn_local(async move {
            let outcome = match sign_in(&name, &secret).await {
                Ok(signed_in) => session::sign_in(current, signed_in).await.map_err(|error| SignInError::Failed(error.to_string())),
                Err(failure) => Err(failure),
            };
            busy.set(false);
            match outcome {
                // The session gate takes the person on: home, or the page they came for.
                Ok(()) => password.set(String::new()),
                Err(failure) => error.set(Some(failure)),
            }
        });
    };

    let message = move || {
        let texts = texts.get();
        error.get().map(|failure| {
            let text = match failure {
                SignInError::WrongLogin => texts.error_wrong_login.to_owned(),
                SignInError::TooMany { seconds } => texts.too_many_attempts.replace("{}", &seconds.to_string()),
                SignInError::Offline => texts.sign_in_needs_network.to_owned(),
                SignInError::Failed(detail) => format!("{}{detail}", texts.sign_in_failed),
            };
            view! { <p class="error" role="alert" data-error="sign-in">{text}</p> }
        })
    };

    // Sent here from a label (`next` is its page): someone without an account reports there.
    let query = leptos_router::hooks::use_query_map();
    let label = move || {
        query.with(|query| query.get("next")).filter(|next| next.starts_with("/l/") && !next.starts_with("//")).map(|next| {
            let path = next.split(['?', '#']).next().unwrap_or_default().to_owned();
            format!("{path}?public")
        })
    };
    let public_report = move || {
        label().map(|href| {
            view! {
                <p class="card">
                    <a href=href rel="external" data-link="public-report">{move || texts.get().report_without_account}</a>
                </p>
            }
        })
    };

    view! {
        <h1>{move || texts.get().sign_in}</h1>
        {public_report}
        <form class="card form" on:submit=submit>
            <label>
                <span>{move || texts.get().username}</span>
                <input
                    name="username"
                    autocomplete="username"
                    autocapitalize="none"
                    spellcheck="false"
                    required
                    prop:value=username
                    on:input=move |event| username.set(event_target_value(&event))
                />
            </label>
            <label>
                <span>{move || texts.get().password}</span>
                <input
                    name="password"
                    type="password"
                    autocomplete="current-password"
                    required
                    prop:value=password
                    on:input=move |event| password.set(event_target_value(&event))
                />
            </label>
            {message}
            <button type="submit" class="primary" prop:disabled=busy>
                {move || if busy.get() { texts.get().signing_in } else { texts.get().sign_in }}
            </button>
        </form>
        <section class="card">
            <ServerStatus />
        </section>
    }
}
