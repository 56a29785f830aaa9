//! Sample grids as PNG: images in `[-1, 1]` mapped to bytes as torchvision's `save_image`
//! (`x * 127.5 + 127.5`, rounded, clamped), tiled with a 2-pixel border.

use std::path::Path;

use burn::prelude::*;

use crate::error::TrainError;

/// Writes `images` (`[n, channels, h, w]`, channels 1 or 3) as a grid of `columns` per row to
/// `path` (PNG, written atomically).
pub fn save_grid(images: Tensor<4>, columns: usize, path: &Path) -> Result<(), TrainError> {
    let [n, c, h, w] = images.dims();
    let values: Vec<f32> = images
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .map_err(|e| TrainError::Invalid {
            path: path.to_path_buf(),
            message: format!("{e:?}"),
        })?;
    let (pad, cols) = (2, columns.max(1));
    let rows = n.div_ceil(cols);
    let (gw, gh) = (cols * (w + pad) + pad, rows * (h + pad) + pad);
    let mut grid = image::RgbImage::new(gw as u32, gh as u32);
    for i in 0..n {
        let (x0, y0) = (pad + (i % cols) * (w + pad), pad + (i / cols) * (h + pad));
        for y in 0..h {
            for x in 0..w {
                let px = |ch: usize| {
                    let v = values[((i * c + ch.min(c - 1)) * h + y) * w + x];
                    (v * 127.5 + 127.5).round().clamp(0.0, 255.0) as u8
                };
                grid.put_pixel(
                    (x0 + x) as u32,
                    (y0 + y) as u32,
                    image::Rgb([px(0), px(1), px(2)]),
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
    crate::checkpoint::write_atomic(path, &bytes)
}
