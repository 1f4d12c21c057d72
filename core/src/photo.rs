//! Photos as a visit keeps them (docs/phone-encryption.md, "Photos"): the camera's JPEG turned
//! upright, made no larger than [`RECORD_PX`] on its long side and encoded again, which leaves
//! behind every metadata segment the camera wrote (the GPS position of a poor family's home, the
//! phone's make, the time). The server makes its thumbnails with the same decoder and limits.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

/// The long side of a stored photo: a house front or a KK card stays legible, and a photo is a
/// few hundred KB on the phone and on the wire.
pub const RECORD_PX: u32 = 1600;
/// JPEG quality of a stored photo and of a thumbnail.
const RECORD_QUALITY: u8 = 82;
const THUMB_QUALITY: u8 = 70;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhotoError {
    #[error("the bytes are not a JPEG image")]
    Unreadable,
}

/// Decodes a JPEG within limits (a crafted header must not make a phone or the server allocate
/// gigabytes), turned as the camera's orientation tag says.
fn decode(bytes: &[u8]) -> Result<DynamicImage, PhotoError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image::ImageFormat::Jpeg);
    let mut limits = Limits::default();
    limits.max_image_width = Some(8_000);
    limits.max_image_height = Some(8_000);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|_| PhotoError::Unreadable)?;
    let orientation = decoder.orientation().map_err(|_| PhotoError::Unreadable)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(|_| PhotoError::Unreadable)?;
    image.apply_orientation(orientation);
    Ok(image)
}

fn encode(image: &DynamicImage, quality: u8) -> Result<Vec<u8>, PhotoError> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(&image.to_rgb8())
        .map_err(|_| PhotoError::Unreadable)?;
    Ok(out)
}

/// A camera's photo as the phone stores it: upright, at most [`RECORD_PX`] on its long side, and
/// with no metadata (the encoder writes none).
pub fn for_the_record(camera_jpeg: &[u8]) -> Result<Vec<u8>, PhotoError> {
    let image = decode(camera_jpeg)?;
    let image = if image.width().max(image.height()) > RECORD_PX {
        image.resize(RECORD_PX, RECORD_PX, image::imageops::FilterType::Triangle)
    } else {
        image
    };
    encode(&image, RECORD_QUALITY)
}

/// A small JPEG that fits in a square of `px`, for the supervisors' pages.
pub fn thumbnail(jpeg: &[u8], px: u32) -> Result<Vec<u8>, PhotoError> {
    encode(&decode(jpeg)?.thumbnail(px, px), THUMB_QUALITY)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A camera JPEG of `width` × `height` whose EXIF says: turn 90° clockwise to view, taken at
    /// a GPS position (latitude reference "S"), by a named phone.
    fn camera_jpeg(width: u32, height: u32) -> Vec<u8> {
        let pixels = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 251) as u8, (y % 241) as u8, 90])
        });
        let plain = encode(&DynamicImage::ImageRgb8(pixels), 90).unwrap();
        // TIFF, big-endian: IFD0 {Orientation = 6, Make, GPS IFD pointer}, GPS IFD {LatitudeRef}.
        let mut tiff: Vec<u8> = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
        tiff.extend([0, 3]);
        tiff.extend([0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]);
        tiff.extend([0x01, 0x0f, 0, 2, 0, 0, 0, 12, 0, 0, 0, 50]);
        tiff.extend([0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 62]);
        tiff.extend([0, 0, 0, 0]);
        tiff.extend(b"HP Kader 01\x00");
        tiff.extend([0, 1]);
        tiff.extend([0x00, 0x01, 0, 2, 0, 0, 0, 2, b'S', 0, 0, 0]);
        tiff.extend([0, 0, 0, 0]);
        let mut app1 = b"Exif\x00\x00".to_vec();
        app1.extend(&tiff);
        let length = u16::try_from(app1.len() + 2).unwrap().to_be_bytes();
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1, length[0], length[1]];
        jpeg.extend(&app1);
        jpeg.extend(&plain[2..]);
        jpeg
    }

    fn holds(bytes: &[u8], text: &[u8]) -> bool {
        bytes.windows(text.len()).any(|w| w == text)
    }

    #[test]
    fn a_camera_photo_is_stored_upright_smaller_and_without_its_metadata() {
        let camera = camera_jpeg(2400, 1800);
        assert!(holds(&camera, b"Exif") && holds(&camera, b"HP Kader 01"));
        assert_eq!(
            decode(&camera).unwrap().width(),
            1800,
            "turned as the tag says"
        );

        let kept = for_the_record(&camera).unwrap();
        assert!(!holds(&kept, b"Exif") && !holds(&kept, b"HP Kader 01"));
        let image = image::load_from_memory(&kept).unwrap();
        assert_eq!(
            (image.width(), image.height()),
            (1200, 1600),
            "upright, long side 1600"
        );
        assert!(kept.len() < camera.len());
        // Stored again, it stays as it is: the phone may prepare a photo twice.
        let again = image::load_from_memory(&for_the_record(&kept).unwrap()).unwrap();
        assert_eq!((again.width(), again.height()), (1200, 1600));
    }

    #[test]
    fn what_is_not_a_jpeg_is_refused() {
        assert_eq!(for_the_record(b"not a photo"), Err(PhotoError::Unreadable));
        assert_eq!(
            for_the_record(&[0xFF, 0xD8, 0xFF]),
            Err(PhotoError::Unreadable)
        );
        let thumb = thumbnail(&camera_jpeg(640, 480), 320).unwrap();
        let image = image::load_from_memory(&thumb).unwrap();
        assert_eq!((image.width(), image.height()), (240, 320));
    }
}
