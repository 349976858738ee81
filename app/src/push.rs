//! This phone's Web Push subscription: asking the person's permission, subscribing with the
//! server's key, and telling the server where to push (`/api/me/push`). The service worker
//! (`sw.js`) shows what arrives and opens its link when tapped.

use base64ct::{Base64UrlUnpadded, Encoding as _};
use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::error::AppError;
use shared::api::NoticeSettingsView;

fn get(target: &JsValue, name: &str) -> Result<JsValue, AppError> {
    Reflect::get(target, &JsValue::from_str(name)).map_err(AppError::browser)
}

/// Calls `target.name(arguments…)` and awaits the promise it gives.
async fn call(target: &JsValue, name: &str, arguments: &[JsValue]) -> Result<JsValue, AppError> {
    let method: Function = get(target, name)?.dyn_into().map_err(|_| AppError::Browser(format!("no {name}()")))?;
    let promise = method.apply(target, &arguments.iter().collect()).map_err(AppError::browser)?;
    JsFuture::from(Promise::resolve(&promise)).await.map_err(AppError::browser)
}

/// Whether this browser can take notifications: a secure page with a service worker, the
/// Push API and notifications (on iOS, only the app installed to the home screen).
pub fn supported() -> bool {
    let Some(window) = web_sys::window() else { return false };
    let has = |target: &JsValue, name: &str| Reflect::has(target, &JsValue::from_str(name)).unwrap_or(false);
    window.is_secure_context() && has(&window.navigator(), "serviceWorker") && has(&window, "PushManager") && has(&window, "Notification")
}

/// The service worker's push manager, once the worker is ready.
async fn push_manager() -> Result<JsValue, AppError> {
    let navigator = web_sys::window().ok_or_else(|| AppError::Browser("no window".into()))?.navigator();
    let ready = get(&get(&navigator, "serviceWorker")?, "ready")?;
    let registration = JsFuture::from(Promise::resolve(&ready)).await.map_err(AppError::browser)?;
    get(&registration, "pushManager")
}

/// This phone's subscription, if it has one (none while no service worker is registered:
/// `serviceWorker.ready` would wait for one).
async fn subscription() -> Result<Option<JsValue>, AppError> {
    let navigator = web_sys::window().ok_or_else(|| AppError::Browser("no window".into()))?.navigator();
    let registration = call(&get(&navigator, "serviceWorker")?, "getRegistration", &[]).await?;
    if registration.is_undefined() || registration.is_null() {
        return Ok(None);
    }
    let subscription = call(&get(&registration, "pushManager")?, "getSubscription", &[]).await?;
    Ok((!subscription.is_null() && !subscription.is_undefined()).then_some(subscription))
}

/// Whether this phone is subscribed now.
pub async fn is_on() -> bool {
    supported() && matches!(subscription().await, Ok(Some(_)))
}

/// Why turning notifications on did not happen.
pub enum TurnOn {
    /// The person (or the browser) did not allow notifications.
    Denied,
    Failed(AppError),
}

impl From<AppError> for TurnOn {
    fn from(error: AppError) -> TurnOn {
        TurnOn::Failed(error)
    }
}

/// Asks for permission, subscribes with the server's `push_key` (base64url) and gives the
/// server the subscription.
pub async fn turn_on(token: &str, push_key: &str) -> Result<NoticeSettingsView, TurnOn> {
    let window: JsValue = web_sys::window().ok_or_else(|| AppError::Browser("no window".into()))?.into();
    let permission = call(&get(&window, "Notification")?, "requestPermission", &[]).await?;
    if permission.as_string().as_deref() != Some("granted") {
        return Err(TurnOn::Denied);
    }
    let key = Base64UrlUnpadded::decode_vec(push_key).map_err(|_| AppError::Unreadable("the server's push key".into()))?;
    let options = Object::new();
    Reflect::set(&options, &"userVisibleOnly".into(), &JsValue::TRUE).map_err(AppError::browser)?;
    Reflect::set(&options, &"applicationServerKey".into(), &Uint8Array::from(key.as_slice())).map_err(AppError::browser)?;
    let subscription = call(&push_manager().await?, "subscribe", &[options.into()]).await?;
    let json = js_sys::JSON::stringify(&subscription).map_err(AppError::browser)?;
    let json: serde_json::Value = serde_json::from_str(&String::from(json)).map_err(AppError::from)?;
    Ok(crate::server::subscribe_push(token, &json).await?)
}

/// Unsubscribes this phone and tells the server to forget it.
pub async fn turn_off(token: &str) -> Result<NoticeSettingsView, AppError> {
    if let Some(subscription) = subscription().await? {
        let endpoint = get(&subscription, "endpoint")?.as_string().unwrap_or_default();
        call(&subscription, "unsubscribe", &[]).await?;
        return crate::server::unsubscribe_push(token, &endpoint).await;
    }
    crate::server::notice_settings(token).await
}
