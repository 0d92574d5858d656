"""Photos are re-encoded before they are stored: a phone photo carries EXIF (the GPS position of the citizen's
home, the device's make and serial, the time) and often XMP; the stored copy keeps only the pixels, turned
upright first (ImageOps.exif_transpose, since the orientation tag goes too), and the colour profile. A file that
Pillow cannot decode as the image type its first bytes claim is refused, and so is one whose header promises more
than MAX_PIXELS pixels (a "decompression bomb": a few KB that would take gigabytes to open)."""

import io
import warnings

from PIL import Image, ImageOps

from pwa_app.common.errors import DomainError

MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo; Pillow refuses anything larger (its default is 89 M)
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
QUALITY = 90  # JPEG and WebP: no visible loss on a second encoding


class PhotoRefused(DomainError):
    """`code` is a citizen message code: photo_unreadable or photo_too_large."""

    def __init__(self, code: str):
        super().__init__({"photo": code})


def _open(data: bytes, content_type: str) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)  # over MAX_PIXELS, not only over twice it
        image = Image.open(io.BytesIO(data), formats=[FORMATS[content_type]])
        image.load()
    return image


def clean_photo(data: bytes, content_type: str) -> bytes:
    """The photo re-encoded in its own format, upright, without EXIF, XMP or comments."""
    try:
        image = _open(data, content_type)
        upright = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRefused("photo_too_large") from None
    except Exception:  # noqa: BLE001 - any decoder failure (OSError, SyntaxError, struct.error...): not an image
        raise PhotoRefused("photo_unreadable") from None
    keep = {k: image.info[k] for k in ("icc_profile", "transparency") if image.info.get(k) is not None}
    upright.info = {}  # EXIF, XMP, comments, DPI: nothing but the pixels and what draws them right
    out = io.BytesIO()
    options = {} if content_type == "image/png" else {"quality": QUALITY}  # PNG stays lossless
    upright.save(out, FORMATS[content_type], **keep, **options)
    return out.getvalue()
