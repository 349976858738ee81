//! Reading QR codes from camera frames with rqrr, for browsers without `BarcodeDetector`
//! (iOS Safari, Firefox, many Android WebViews).
//!
//! It is a wasm module of its own rather than part of the app: the decoder is about 80 KB
//! brotli, which every phone would otherwise download before its first screen while most
//! never use it (Chrome on Android has `BarcodeDetector`). The app imports it the first
//! time it scans without one; the service worker caches it with the release, so scanning
//! works offline too.

use wasm_bindgen::prelude::wasm_bindgen;

/// The text of the first QR code found in an RGBA image `width` × `height` pixels (as a
/// canvas's `ImageData` holds it), or `undefined`.
#[wasm_bindgen]
pub fn decode(width: u32, height: u32, rgba: &[u8]) -> Option<String> {
    decode_rgba(width as usize, height as usize, rgba)
}

/// [`decode`] for Rust callers.
pub fn decode_rgba(width: usize, height: usize, rgba: &[u8]) -> Option<String> {
    if width == 0 || height == 0 || rgba.len() < width.checked_mul(height)?.checked_mul(4)? {
        return None;
    }
    // Luma from RGB, as a camera frame's grey is usually taken.
    let grey: Vec<u8> = rgba
        .chunks_exact(4)
        .map(|pixel| ((u32::from(pixel[0]) * 77 + u32::from(pixel[1]) * 150 + u32::from(pixel[2]) * 29) >> 8) as u8)
        .collect();
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| grey[y * width + x]);
    image.detect_grids().into_iter().find_map(|grid| grid.decode().ok().map(|(_meta, text)| text))
}

/// An RGBA picture of a QR code of `text`, `scale` pixels a module, grey on grey with a
/// little noise, as a camera frame holds it; returns its width (= height) and pixels.
#[cfg(any(test, feature = "frames"))]
pub fn frame(text: &str, scale: usize) -> (usize, Vec<u8>) {
    let code = qrcode::QrCode::new(text.as_bytes()).expect("the text fits a QR code");
    let (modules, colors) = (code.width(), code.to_colors());
    let margin = 4 * scale + 7;
    let size = modules * scale + 2 * margin;
    let mut rgba = Vec::with_capacity(size * size * 4);
    for y in 0..size {
        for x in 0..size {
            let (column, row) = (x.wrapping_sub(margin) / scale, y.wrapping_sub(margin) / scale);
            let dark =
                x >= margin && y >= margin && column < modules && row < modules && colors[row * modules + column] == qrcode::Color::Dark;
            let noise = ((x * 7 + y * 13) % 11) as u8;
            let level = if dark { 40 + noise } else { 200 + noise };
            rgba.extend_from_slice(&[level, level, level.saturating_sub(10), 255]);
        }
    }
    (size, rgba)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_in_a_frame_is_read_and_nothing_is_read_from_nothing() {
        let (size, rgba) = frame("https://houqin.lan/l/HQ-A-101", 4);
        assert_eq!(decode_rgba(size, size, &rgba).as_deref(), Some("https://houqin.lan/l/HQ-A-101"));
        let blank = vec![255u8; 64 * 64 * 4];
        assert_eq!(decode_rgba(64, 64, &blank), None);
        assert_eq!(decode_rgba(64, 64, &blank[..10]), None, "a short buffer is refused, not read past");
        assert_eq!(decode_rgba(usize::MAX, 2, &blank), None, "sizes that overflow are refused");
    }
}
