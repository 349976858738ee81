//! Signing in: user name and password, once online; afterwards the phone keeps the session.
//!
//! On a first visit the page paints its own sign-in form before the app's module arrives
//! (`index.html`'s `#shell`, shown by `boot.js`); when the app starts it takes over what
//! was typed there, the field being typed in and a press of the button
//! ([`take_shell_form`]), so nothing typed on a slow link is lost.

use std::cell::RefCell;

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast as _;

use crate::i18n::use_texts;
use crate::pages::home::ServerStatus;
use crate::server::{SignInError, sign_in};
use crate::session::{self, use_session};

/// What was typed into the page's own sign-in form before the app started.
struct ShellForm {
    username: String,
    password: String,
    /// The field the cursor was in.
    focused: Option<String>,
    /// Whether "sign in" was pressed.
    pressed: bool,
}

thread_local! {
    static SHELL_FORM: RefCell<Option<ShellForm>> = const { RefCell::new(None) };
}

/// Takes over the page's own sign-in form as the app starts: keeps what was typed in it for
/// [`SignIn`] and removes it.
pub fn take_shell_form() {
    let Some(shell) = document().get_element_by_id("shell") else { return };
    if !shell.has_attribute("hidden") {
        let input = |name: &str| {
            shell
                .query_selector(&format!("input[name={name}]"))
                .ok()
                .flatten()
                .and_then(|input| input.dyn_into::<web_sys::HtmlInputElement>().ok())
        };
        let value = |name: &str| input(name).map(|input| input.value()).unwrap_or_default();
        let active = document().active_element();
        let focused = ["username", "password"]
            .into_iter()
            .find(|name| input(name).is_some_and(|input| active.as_ref() == Some(input.unchecked_ref::<web_sys::Element>())))
            .map(str::to_owned);
        let pressed = shell.query_selector("form[data-pressed]").ok().flatten().is_some();
        let form = ShellForm { username: value("username"), password: value("password"), focused, pressed };
        if !form.username.is_empty() || !form.password.is_empty() || form.focused.is_some() {
            SHELL_FORM.set(Some(form));
        }
    }
    shell.remove();
}

#[component]
pub fn SignIn() -> impl IntoView {
    let texts = use_texts();
    let current = use_session();
    let typed = SHELL_FORM.take();
    let username = RwSignal::new(typed.as_ref().map(|typed| typed.username.clone()).unwrap_or_default());
    let password = RwSignal::new(typed.as_ref().map(|typed| typed.password.clone()).unwrap_or_default());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<SignInError>);
    let form = NodeRef::<leptos::html::Form>::new();

    let go = move || {
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
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        go();
    };
    if let Some(ShellForm { focused, pressed, username: typed_name, password: typed_secret }) = typed {
        if pressed && !typed_name.trim().is_empty() && !typed_secret.is_empty() {
            go();
        } else if let Some(field) = focused {
            // The cursor stays in the field it was in.
            request_animation_frame(move || {
                let input = form.get_untracked().and_then(|form| form.query_selector(&format!("input[name={field}]")).ok().flatten());
                if let Some(input) = input.and_then(|input| input.dyn_into::<web_sys::HtmlElement>().ok()) {
                    let _ = input.focus();
                }
            });
        }
    }

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
        <form class="card form" data-form="sign-in" node_ref=form on:submit=submit>
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
