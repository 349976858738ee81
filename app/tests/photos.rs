//! The photo helper in a real browser: pictures are shrunk to 1600 px on the longest side
//! as JPEG, never enlarged, and kept in the local store awaiting upload.

use app::photos::{LONGEST_SIDE, keep, scaled_size, shrink};
use wasm_bindgen::JsCast as _;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Blob, ImageBitmap, OffscreenCanvas, OffscreenCanvasRenderingContext2d};

wasm_bindgen_test_configure!(run_in_browser);

/// A PNG picture of the given size, as a camera would hand one over.
async fn picture(width: u32, height: u32) -> Blob {
    let canvas = OffscreenCanvas::new(width, height).unwrap();
    let context: OffscreenCanvasRenderingContext2d = canvas.get_context("2d").unwrap().unwrap().unchecked_into();
    context.set_fill_style_str("#0f6b5c");
    context.fill_rect(0.0, 0.0, f64::from(width), f64::from(height));
    context.set_fill_style_str("#f2b33d");
    context.fill_rect(0.0, 0.0, f64::from(width) / 2.0, f64::from(height) / 2.0);
    JsFuture::from(canvas.convert_to_blob().unwrap()).await.unwrap().unchecked_into()
}

async fn size_of(jpeg: &[u8]) -> (u32, u32) {
    let blob = Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&js_sys::Uint8Array::from(jpeg))).unwrap();
    let bitmap: ImageBitmap =
        JsFuture::from(web_sys::window().unwrap().create_image_bitmap_with_blob(&blob).unwrap()).await.unwrap().unchecked_into();
    (bitmap.width(), bitmap.height())
}

#[wasm_bindgen_test]
fn sizes_keep_their_proportions() {
    assert_eq!(scaled_size(4000, 3000), (1600, 1200));
    assert_eq!(scaled_size(3000, 4000), (1200, 1600));
    assert_eq!(scaled_size(1600, 900), (1600, 900));
    assert_eq!(scaled_size(640, 480), (640, 480), "never enlarged");
    assert_eq!(scaled_size(10_000, 3), (LONGEST_SIDE, 1), "never zero");
}

#[wasm_bindgen_test]
async fn a_large_photo_is_shrunk_to_a_jpeg() {
    let jpeg = shrink(&picture(3200, 2400).await).await.unwrap();
    assert_eq!(&jpeg[..3], [0xff, 0xd8, 0xff], "a JPEG");
    assert_eq!(size_of(&jpeg).await, (1600, 1200));
    let small = shrink(&picture(800, 600).await).await.unwrap();
    assert_eq!(size_of(&small).await, (800, 600));
}

#[wasm_bindgen_test]
async fn a_kept_photo_waits_in_the_store_for_upload() {
    let reference = keep(&picture(2000, 1000).await).await.unwrap();
    assert_eq!(reference.mime, "image/jpeg");
    let store = app::store::local().await.unwrap();
    let kept = store.blob(&reference.sha256).await.unwrap().expect("kept on the phone");
    assert_eq!(kept.bytes.len() as u64, reference.size);
    assert!(!kept.uploaded);
    assert!(store.pending_uploads().await.unwrap().contains(&reference.sha256));
    assert_eq!(size_of(&kept.bytes).await, (1600, 800));
}
