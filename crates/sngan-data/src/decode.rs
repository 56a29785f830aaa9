//! Image decoding with content sniffing (ImageNet has PNGs named `.JPEG`, CMYK and grey JPEGs)
//! and a strict end check: the `image` crate decodes a truncated JPEG silently into a partly
//! grey picture, so a JPEG must end with the EOI marker `FF D9` (research/data.md section 9).

use crate::error::{DataError, Result};
use sngan_core::Image;

/// Whether `bytes` end with a JPEG EOI marker, ignoring trailing `00` padding.
pub fn jpeg_has_eoi(bytes: &[u8]) -> bool {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    end >= 2 && bytes[end - 2] == 0xFF && bytes[end - 1] == 0xD9
}

/// Decodes a JPEG, PNG, BMP or PNM image (format by content, not name) to 8-bit RGB.
///
/// `name` is the file or `archive:member` used in errors. A JPEG without its end marker is
/// an error, as Pillow (`image file is truncated`) and OpenCV (`imdecode` returns `None`) treat it.
pub fn decode_rgb(bytes: &[u8], name: &str) -> Result<Image> {
    let format = image::guess_format(bytes).map_err(|e| DataError::Image {
        path: name.into(),
        expected: "a JPEG, PNG, BMP or PNM file".into(),
        found: format!("unrecognised content ({e}), {} bytes", bytes.len()),
    })?;
    if format == image::ImageFormat::Jpeg && !jpeg_has_eoi(bytes) {
        return Err(DataError::Image {
            path: name.into(),
            expected: "a JPEG ending with the EOI marker FF D9".into(),
            found: format!("{} bytes without it (truncated file)", bytes.len()),
        });
    }
    let decoded =
        image::load_from_memory_with_format(bytes, format).map_err(|e| DataError::Image {
            path: name.into(),
            expected: format!("a valid {format:?} image"),
            found: e.to_string(),
        })?;
    let rgb = decoded.into_rgb8();
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    if w == 0 || h == 0 {
        return Err(DataError::Image {
            path: name.into(),
            expected: "at least 1x1 pixels".into(),
            found: format!("{w}x{h}"),
        });
    }
    Ok(Image::new(h, w, 3, rgb.into_raw()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eoi_check_ignores_zero_padding() {
        assert!(jpeg_has_eoi(&[0xFF, 0xD8, 0x12, 0xFF, 0xD9]));
        assert!(jpeg_has_eoi(&[0xFF, 0xD8, 0x12, 0xFF, 0xD9, 0, 0]));
        assert!(!jpeg_has_eoi(&[0xFF, 0xD8, 0x12, 0x34]));
        assert!(!jpeg_has_eoi(&[0xD9]));
        assert!(!jpeg_has_eoi(&[]));
    }

    #[test]
    fn garbage_is_an_error_naming_the_file() {
        let err = decode_rgb(b"not an image at all", "x/y.jpg").err();
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.starts_with("x/y.jpg: cannot decode image"), "{msg}");
    }
}
