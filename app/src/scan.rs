//! Reading a QR label with the camera: with the browser's `BarcodeDetector` where it has
//! one (Chrome on Android), else by decoding camera frames with the `qr` module (rqrr,
//! compiled to a wasm module of its own that the shell's `houqinQrDecoder()` imports on
//! first use: iOS Safari, Firefox, many Android WebViews). The button is offered wherever there is a
//! camera to ask for (a secure context); a label's URL gives its code
//! ([`shared::routes::scanned_code`]), and a code printed as plain text is taken as it is.

use js_sys::{Array, Object, Promise, Reflect};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement, MediaStream, MediaStreamConstraints, MediaStreamTrack};

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

/// Frames decoded here are scaled to at most this width: enough for a label held near the
/// camera, and a few milliseconds per frame on a cheap phone.
const DECODE_WIDTH: u32 = 640;

fn has_detector() -> bool {
    web_sys::window().is_some_and(|window| Reflect::has(&window, &"BarcodeDetector".into()).unwrap_or(false))
}

/// Whether the browser lets this page ask for a camera (only secure contexts do).
fn has_camera() -> bool {
    web_sys::window().is_some_and(|window| window.navigator().media_devices().is_ok() && window.is_secure_context())
}

/// The `qr` module's `decode(width, height, rgba)`, imported by the shell's
/// `houqinQrDecoder()` (which `cargo xtask dist` writes with the module's hashed names).
async fn load_decoder() -> Result<js_sys::Function, JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let loader: js_sys::Function = Reflect::get(&window, &"houqinQrDecoder".into())?.dyn_into()?;
    let loading: Promise = loader.call0(&window)?.dyn_into()?;
    JsFuture::from(loading).await?.dyn_into()
}

/// Decodes the video's current frame with `decode`, through a canvas at most
/// [`DECODE_WIDTH`] wide.
fn decode_frame(decode: &js_sys::Function, video: &HtmlVideoElement, canvas: &HtmlCanvasElement) -> Option<String> {
    let (frame_width, frame_height) = (video.video_width(), video.video_height());
    if frame_width == 0 || frame_height == 0 {
        return None;
    }
    let width = frame_width.min(DECODE_WIDTH);
    let height = (f64::from(frame_height) * f64::from(width) / f64::from(frame_width)).round() as u32;
    canvas.set_width(width);
    canvas.set_height(height);
    let context: CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    context.draw_image_with_html_video_element_and_dw_and_dh(video, 0.0, 0.0, f64::from(width), f64::from(height)).ok()?;
    // The pixels go from the canvas to the decoder's memory without a stop in the app's.
    let image = context.get_image_data(0.0, 0.0, f64::from(width), f64::from(height)).ok()?;
    let pixels = Reflect::get(&image, &"data".into()).ok()?;
    decode.call3(&JsValue::NULL, &width.into(), &height.into(), &pixels).ok()?.as_string()
}

/// Reads frames with the browser's detector, or decodes them here without one.
enum Reader {
    Browser(BarcodeDetector),
    Here { decode: js_sys::Function, canvas: HtmlCanvasElement },
}

impl Reader {
    async fn new() -> Result<Reader, JsValue> {
        if has_detector() {
            let options = Object::new();
            Reflect::set(&options, &"formats".into(), &Array::of1(&"qr_code".into()))?;
            return Ok(Reader::Browser(BarcodeDetector::new(&options)?));
        }
        let decode = load_decoder().await?;
        let canvas = web_sys::window().ok_or("no window")?.document().ok_or("no document")?.create_element("canvas")?;
        Ok(Reader::Here { decode, canvas: canvas.dyn_into()? })
    }

    async fn read(&self, video: &HtmlVideoElement) -> Option<String> {
        match self {
            Reader::Browser(detector) => detect_once(detector, video).await,
            Reader::Here { decode, canvas } => decode_frame(decode, video, canvas),
        }
    }
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

/// Why a scan gave nothing.
#[derive(Clone, Debug)]
enum Failure {
    /// No camera, or it was refused (the browser's reason, for the tooltip).
    Camera(String),
    /// A QR code that is no label of this app (another site's URL).
    NotALabel,
}

/// A camera button that, once a QR code is in view, hands the code it carries to `on_code`
/// (a label's URL gives the code in it; another URL is refused with a message).
#[component]
pub fn ScanButton(on_code: Callback<String>) -> impl IntoView {
    let texts = use_texts();
    let scanning = RwSignal::new(false);
    let failed = RwSignal::new(None::<Failure>);
    let video = NodeRef::<leptos::html::Video>::new();
    let begin = move |_| {
        failed.set(None);
        scanning.set(true);
        spawn_local(async move {
            let outcome = async {
                let reader = Reader::new().await?;
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
                    code = reader.read(&element).await;
                }
                stop(&stream);
                Ok::<Option<String>, JsValue>(code)
            }
            .await;
            scanning.set(false);
            match outcome {
                Ok(Some(text)) => match shared::routes::scanned_code(&text) {
                    Some(code) => on_code.run(code),
                    None => failed.set(Some(Failure::NotALabel)),
                },
                Ok(None) => {}
                Err(error) => failed.set(Some(Failure::Camera(error.as_string().unwrap_or_else(|| format!("{error:?}"))))),
            }
        });
    };
    has_camera().then(|| {
        view! {
            <button type="button" class="scan-button" data-action="scan" on:click=begin>
                {move || texts.get().scan}
            </button>
            <Show when=move || scanning.get()>
                <div class="scanner" role="dialog">
                    <video node_ref=video playsinline=true muted=true></video>
                    <button type="button" on:click=move |_| scanning.set(false)>{move || texts.get().cancel}</button>
                </div>
            </Show>
            {move || {
                failed.get().map(|failure| match failure {
                    Failure::Camera(reason) => view! { <p class="error" role="alert" title=reason>{texts.get().camera_unavailable}</p> },
                    Failure::NotALabel => view! { <p class="error" role="alert" title=String::new()>{texts.get().not_a_label}</p> },
                })
            }}
        }
    })
}
