//! Files the reader saves or picks: a CSV download made on the phone, a picked file's text.

use wasm_bindgen::JsCast as _;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobPropertyBag, File, HtmlElement, Url};

use crate::error::AppError;

/// Offers `text` as a file named `name` to save, as a link with `download` would.
pub fn download(name: &str, text: &str, mime: &str) -> Result<(), AppError> {
    let parts = js_sys::Array::of1(&text.into());
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let blob = Blob::new_with_str_sequence_and_options(&parts, &options).map_err(AppError::browser)?;
    let url = Url::create_object_url_with_blob(&blob).map_err(AppError::browser)?;
    let document = web_sys::window().and_then(|window| window.document()).ok_or_else(|| AppError::Browser("no document".to_owned()))?;
    let link: HtmlElement = document.create_element("a").map_err(AppError::browser)?.unchecked_into();
    link.set_attribute("href", &url).map_err(AppError::browser)?;
    link.set_attribute("download", name).map_err(AppError::browser)?;
    link.click();
    // The download has its own reference to the data by now.
    let _ = Url::revoke_object_url(&url);
    Ok(())
}

/// The text of a picked file, read as UTF-8.
pub async fn read_text(file: &File) -> Result<String, AppError> {
    let text = JsFuture::from(file.text()).await.map_err(AppError::browser)?;
    text.as_string().ok_or_else(|| AppError::Browser("the file is not text".to_owned()))
}
