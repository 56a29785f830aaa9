//! Sample grids as PNG: uint8 images tiled with a 2-pixel border, as torchvision's
//! `make_grid(padding=2)` lays them out (grey images drawn as RGB).

use std::path::Path;

use sngan_core::{Images, write_atomic};

use crate::error::TrainError;

/// Writes `images` (1 or 3 channels) as a grid of `columns` per row to `path` (PNG, atomically).
pub fn save_grid(images: &Images, columns: usize, path: &Path) -> Result<(), TrainError> {
    let [h, w, c] = images.shape();
    let (pad, cols) = (2, columns.max(1));
    let rows = images.len().div_ceil(cols);
    let (gw, gh) = (cols * (w + pad) + pad, rows * (h + pad) + pad);
    let mut grid = image::RgbImage::new(gw as u32, gh as u32);
    for i in 0..images.len() {
        let px = images.pixels_of(i);
        let (x0, y0) = (pad + (i % cols) * (w + pad), pad + (i / cols) * (h + pad));
        for y in 0..h {
            for x in 0..w {
                let at = |ch: usize| px[(y * w + x) * c + ch.min(c - 1)];
                grid.put_pixel(
                    (x0 + x) as u32,
                    (y0 + y) as u32,
                    image::Rgb([at(0), at(1), at(2)]),
                );
            }
        }
    }
    let mut bytes = Vec::new();
    grid.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .map_err(|e| TrainError::Invalid {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(write_atomic(path, &bytes)?)
}
