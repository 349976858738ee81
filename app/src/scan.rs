//! Reading a QR label with the camera, where the browser has `BarcodeDetector` (Chrome on
//! Android does; others type the code printed under the QR instead, so the button is only
//! offered where it works).

use js_sys::{Array, Object, Promise, Reflect};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlVideoElement, MediaStream, MediaStreamConstraints, MediaStreamTrack};

use crate::i18n::use_texts;

#[wasm_bindgen]
extern "C" {
    type BarcodeDetector;
    #[wasm_bindgen(constructor, catch)]
    fn new(options: &JsValue) -> Result<BarcodeDetector, JsValue>;
    #[wasm_bindgen(method)]
    fn detect(this: &BarcodeDetector, source: &JsValue) -> Promise;
}

/// How often a camera frame is looked at.
const FRAME_INTERVAL_MS: i32 = 250;

fn has_detector() -> bool {
    web_sys::window().is_some_and(|window| Reflect::has(&window, &"BarcodeDetector".into()).unwrap_or(false))
}

async fn pause(milliseconds: i32) {
    let wait = Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, milliseconds);
        }
    });
    let _ = JsFuture::from(wait).await;
}

fn stop(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        track.unchecked_into::<MediaStreamTrack>().stop();
    }
}

/// The back camera's stream.
async fn open_camera() -> Result<MediaStream, JsValue> {
    let devices = web_sys::window().ok_or("no window")?.navigator().media_devices()?;
    let video = Object::new();
    Reflect::set(&video, &"facingMode".into(), &"environment".into())?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_video(&video);
    Ok(JsFuture::from(devices.get_user_media_with_constraints(&constraints)?).await?.unchecked_into())
}

/// The first QR code's text in the video's current frame, if any.
async fn detect_once(detector: &BarcodeDetector, video: &HtmlVideoElement) -> Option<String> {
    let found: Array = JsFuture::from(detector.detect(video)).await.ok()?.dyn_into().ok()?;
    found.iter().find_map(|code| Reflect::get(&code, &"rawValue".into()).ok()?.as_string())
}

/// A camera button that, once a QR code is in view, hands its text to `on_code`.
#[component]
pub fn ScanButton(on_code: Callback<String>) -> impl IntoView {
    let texts = use_texts();
    let scanning = RwSignal::new(false);
    let failed = RwSignal::new(None::<String>);
    let video = NodeRef::<leptos::html::Video>::new();
    let begin = move |_| {
        failed.set(None);
        scanning.set(true);
        spawn_local(async move {
            let outcome = async {
                let options = Object::new();
                Reflect::set(&options, &"formats".into(), &Array::of1(&"qr_code".into()))?;
                let detector = BarcodeDetector::new(&options)?;
                let stream = open_camera().await?;
                let Some(element) = video.get_untracked() else {
                    stop(&stream);
                    return Ok(None);
                };
                element.set_src_object(Some(&stream));
                let _ = element.play();
                let mut code = None;
                // Until a code is seen or the reader closes the camera.
                while scanning.get_untracked() && code.is_none() {
                    pause(FRAME_INTERVAL_MS).await;
                    code = detect_once(&detector, &element).await;
                }
                stop(&stream);
                Ok::<Option<String>, JsValue>(code)
            }
            .await;
            scanning.set(false);
            match outcome {
                Ok(Some(code)) => on_code.run(code),
                Ok(None) => {}
                Err(error) => failed.set(Some(error.as_string().unwrap_or_else(|| format!("{error:?}")))),
            }
        });
    };
    has_detector().then(|| {
        view! {
            <button type="button" class="scan-button" data-action="scan" on:click=begin>
                <span aria-hidden="true">"⌗ "</span>
                {move || texts.get().scan}
            </button>
            <Show when=move || scanning.get()>
                <div class="scanner" role="dialog">
                    <video node_ref=video playsinline=true muted=true></video>
                    <button type="button" on:click=move |_| scanning.set(false)>{move || texts.get().cancel}</button>
                </div>
            </Show>
            {move || failed.get().map(|reason| view! { <p class="error" role="alert" title=reason>{texts.get().camera_unavailable}</p> })}
        }
    })
}
