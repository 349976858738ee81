//! Photos: taken with the camera (a file input with `capture`), shrunk on the phone to at
//! most 1600 px on the longest side as JPEG, kept in the local store under their SHA-256,
//! and uploaded (`PUT /blobs/{sha256}`) whenever the phone is online. Documents hold only
//! the reference (`BlobRef`).

use js_sys::{Array, Uint8Array};
use shared::document::BlobRef;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, HtmlCanvasElement, ImageBitmap, ImageEncodeOptions, OffscreenCanvas, OffscreenCanvasRenderingContext2d};

use crate::error::AppError;
use crate::store;

/// The longest side of a kept photo, in pixels.
pub const LONGEST_SIDE: u32 = 1600;
/// JPEG quality: small files, legible labels and gauges.
const QUALITY: f64 = 0.85;

/// The size a `width` × `height` picture is scaled to: the longest side at most
/// [`LONGEST_SIDE`], never enlarged.
pub fn scaled_size(width: u32, height: u32) -> (u32, u32) {
    let longest = width.max(height);
    if longest <= LONGEST_SIDE || longest == 0 {
        return (width, height);
    }
    let scale = f64::from(LONGEST_SIDE) / f64::from(longest);
    ((f64::from(width) * scale).round().max(1.0) as u32, (f64::from(height) * scale).round().max(1.0) as u32)
}

/// Draws `bitmap` at `width` × `height` and encodes it as `mime` (with `quality` for lossy
/// types).
async fn encode(bitmap: ImageBitmap, width: u32, height: u32, mime: &str, quality: Option<f64>) -> Result<Vec<u8>, AppError> {
    let canvas = OffscreenCanvas::new(width, height).map_err(AppError::browser)?;
    let context: OffscreenCanvasRenderingContext2d =
        canvas.get_context("2d").map_err(AppError::browser)?.ok_or_else(|| AppError::Browser("no 2d canvas".to_owned()))?.unchecked_into();
    context
        .draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, f64::from(width), f64::from(height))
        .map_err(AppError::browser)?;
    bitmap.close();
    let options = ImageEncodeOptions::new();
    options.set_type(mime);
    if let Some(quality) = quality {
        options.set_quality(quality);
    }
    let encoded: Blob = JsFuture::from(canvas.convert_to_blob_with_options(&options).map_err(AppError::browser)?)
        .await
        .map_err(AppError::browser)?
        .unchecked_into();
    let buffer = JsFuture::from(encoded.array_buffer()).await.map_err(AppError::browser)?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// Decodes a picture (any type the browser reads), shrinks it, and encodes it as JPEG.
pub async fn shrink(picture: &Blob) -> Result<Vec<u8>, AppError> {
    let window = web_sys::window().ok_or_else(|| AppError::Browser("no window".to_owned()))?;
    let bitmap: ImageBitmap = JsFuture::from(window.create_image_bitmap_with_blob(picture).map_err(AppError::browser)?)
        .await
        .map_err(AppError::browser)?
        .unchecked_into();
    let (width, height) = scaled_size(bitmap.width(), bitmap.height());
    encode(bitmap, width, height, "image/jpeg", Some(QUALITY)).await
}

async fn keep_bytes(bytes: &[u8], mime: &str) -> Result<BlobRef, AppError> {
    let local = store::local().await?;
    let sha256 = local.put_blob(bytes, mime).await?;
    Ok(BlobRef::new(&sha256, bytes.len() as u64, mime)?)
}

/// Shrinks a photo and keeps it on the phone; returns the reference a document holds.
pub async fn keep(picture: &Blob) -> Result<BlobRef, AppError> {
    keep_bytes(&shrink(picture).await?, "image/jpeg").await
}

/// Keeps what is drawn on a canvas (a signature) as PNG: lines stay sharp and small.
pub async fn keep_drawing(canvas: &HtmlCanvasElement) -> Result<BlobRef, AppError> {
    let window = web_sys::window().ok_or_else(|| AppError::Browser("no window".to_owned()))?;
    let bitmap: ImageBitmap = JsFuture::from(window.create_image_bitmap_with_html_canvas_element(canvas).map_err(AppError::browser)?)
        .await
        .map_err(AppError::browser)?
        .unchecked_into();
    let png = encode(bitmap, canvas.width(), canvas.height(), "image/png", None).await?;
    keep_bytes(&png, "image/png").await
}

/// Uploads every kept file the server has not confirmed. Stops at the first failure (the
/// next connection tries again); a file the server refuses as damaged is left for a person
/// to see rather than retried forever. `waiting` hears how many are left after each one.
pub async fn upload_pending(token: &str, waiting: impl Fn(usize)) -> Result<usize, AppError> {
    let local = store::local().await?;
    let mut uploaded = 0;
    let pending = local.pending_uploads().await?;
    let total = pending.len();
    for sha256 in pending {
        let Some(file) = local.blob(&sha256).await? else { continue };
        let body = Uint8Array::from(file.bytes.as_slice());
        let response = gloo_net::http::Request::put(&format!("/blobs/{sha256}"))
            .header("authorization", &format!("Bearer {token}"))
            .header("content-type", &file.mime)
            .body(JsValue::from(body))?
            .send()
            .await?;
        match response.status() {
            200 | 201 => {
                local.mark_uploaded(&sha256).await?;
                uploaded += 1;
                waiting(total - uploaded);
            }
            status => return Err(AppError::Answered { status, what: format!("file {sha256}") }),
        }
    }
    Ok(uploaded)
}

/// A URL an `<img>` can show the file at: from the phone if it has it, else fetched from
/// the server (which needs the token, so a plain `src` would not do).
pub async fn object_url(sha256: &str, token: &str) -> Result<String, AppError> {
    let local = store::local().await?;
    let (bytes, mime) = match local.blob(sha256).await? {
        Some(file) => (file.bytes, file.mime),
        None => {
            let response = gloo_net::http::Request::get(&format!("/blobs/{sha256}"))
                .header("authorization", &format!("Bearer {token}"))
                .send()
                .await?;
            if !response.ok() {
                return Err(AppError::Answered { status: response.status(), what: format!("file {sha256}") });
            }
            let mime = response.headers().get("content-type").unwrap_or_else(|| "image/jpeg".to_owned());
            (response.binary().await?, mime)
        }
    };
    let parts = Array::of1(&Uint8Array::from(bytes.as_slice()));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(&mime);
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(AppError::browser)?;
    web_sys::Url::create_object_url_with_blob(&blob).map_err(AppError::browser)
}
