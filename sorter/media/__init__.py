"""media: finding and decoding photos and videos, with the checks made before any decode.

Owns the folder scan and file-name rules (`folders`), the one preprocessing contract shared by training
and sorting (`images.load_image`), HEIC/HEIF/AVIF, a JPEG's EXIF thumbnail (the first look),
pet videos' keyframes, and what decoders print on stderr.

May import: `sorter.config`, `sorter.errors`, OpenCV, Pillow (lazily) and numpy.
"""
