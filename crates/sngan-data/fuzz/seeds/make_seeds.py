# Seed inputs for the cargo-fuzz targets of sngan-data (one folder per target), small valid
# files of each format so the fuzzer starts from structure instead of noise.
# Python 3.11, numpy 2.4.6, Pillow 13.0.0:
#   /root/venv/bin/python crates/sngan-data/fuzz/seeds/make_seeds.py
import io
import os
import pickle
import struct
import tarfile
import zipfile

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(0)


def put(target, name, data):
    os.makedirs(os.path.join(HERE, target), exist_ok=True)
    with open(os.path.join(HERE, target, name), "wb") as f:
        f.write(data)


def tar_bytes(members, gz=False):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w") as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def img_bytes(fmt, h, w, mode="RGB"):
    a = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    im = Image.fromarray(a).convert(mode)
    buf = io.BytesIO()
    im.save(buf, format=fmt, **({"quality": 80} if fmt == "JPEG" else {}))
    return buf.getvalue()


# idx
put("idx", "images", struct.pack(">IIII", 2051, 2, 4, 4) + bytes(range(32)))
put("idx", "labels", struct.pack(">II", 2049, 3) + bytes([1, 2, 3]))
# cifar_binary
put("cifar_binary", "c10", bytes([3]) + bytes(rng.integers(0, 256, 3072, dtype=np.uint8)))
put("cifar_binary", "c100", bytes([4, 44]) + bytes(rng.integers(0, 256, 3072, dtype=np.uint8)))
# cifar_python
batch = {b"labels": [1, 2], b"data": rng.integers(0, 256, size=(2, 3072), dtype=np.uint8)}
for proto in (2, 5):
    put("cifar_python", f"p{proto}", pickle.dumps(batch, protocol=proto))
# npy
for shape in [(4, 4, 3), (2, 3, 1)]:
    buf = io.BytesIO()
    np.save(buf, rng.integers(0, 256, size=shape, dtype=np.uint8))
    put("npy", "x".join(map(str, shape)), buf.getvalue())
# image_decode
put("image_decode", "rgb.jpg", img_bytes("JPEG", 24, 20))
put("image_decode", "grey.jpg", img_bytes("JPEG", 9, 13, "L"))
put("image_decode", "cmyk.jpg", img_bytes("JPEG", 8, 8, "CMYK"))
put("image_decode", "rgb.png", img_bytes("PNG", 12, 10))
put("image_decode", "rgb.bmp", img_bytes("BMP", 5, 6))
# archives
rec = bytes([1]) + bytes(rng.integers(0, 256, 3072, dtype=np.uint8))
put("archives", "cifar.tar.gz", tar_bytes([("cifar-10-batches-bin/test_batch.bin", rec)], gz=True))
inner = tar_bytes([("n01_1.JPEG", img_bytes("JPEG", 10, 12)), ("n01_2.JPEG", img_bytes("PNG", 7, 9))])
put("archives", "tar_of_tars.tar", tar_bytes([("n01.tar", inner)]))
stl = bytes(rng.integers(0, 256, 27648, dtype=np.uint8))
put("archives", "stl.tar.gz", tar_bytes([("stl10_binary/train_X.bin", stl), ("stl10_binary/train_y.bin", bytes([3]))], gz=True))
zb = io.BytesIO()
with zipfile.ZipFile(zb, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("img_align_celeba/000001.jpg", img_bytes("JPEG", 20, 16))
    z.writestr("img_align_celeba/000002.jpg", img_bytes("PNG", 8, 8))
put("archives", "celeba.zip", zb.getvalue())
print("ok")
