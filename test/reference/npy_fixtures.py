"""Reference .npy files written by NumPy itself, for test/core/io/npy.test.ts.

Each case is saved with numpy (np.save / np.lib.format.write_array) and described in
fixtures/io/npy_cases.json: dtype descriptor, shape, Fortran flag, format version and the values in C order
as NumPy reads them back (NaN/Inf and int64 as strings), plus the sha256 of the C-order data bytes.
The tests read every file with cleave's reader and compare; for the C-order cases they also encode the
same values with cleave's writer and compare the bytes with NumPy's file.

Rerun (deterministic): python3 test/reference/npy_fixtures.py   (numpy 2.x)
"""
import hashlib
import json
import os
import struct

import numpy as np
from numpy.lib import format as npformat

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "io")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(20240601)


def encode_value(v, dtype):
    if dtype.kind == "f":
        f = float(v)
        if np.isnan(f):
            return "nan"
        if np.isinf(f):
            return "inf" if f > 0 else "-inf"
        return f
    if dtype.kind == "b":
        return bool(v)
    if dtype == np.int64:
        return str(int(v))
    return int(v)


cases = []


def save(name, arr, version=None, values=True, expect_error=None):
    path = os.path.join(OUT, name + ".npy")
    with open(path, "wb") as f:
        if version is None:
            np.save(f, arr)
        else:
            npformat.write_array(f, arr, version=version)
    back = np.load(path)
    assert back.dtype == arr.dtype and back.shape == arr.shape
    c = np.ascontiguousarray(back)
    case = {
        "file": name + ".npy",
        "descr": npformat.dtype_to_descr(arr.dtype),
        "shape": list(arr.shape),
        "fortran": bool(arr.flags.f_contiguous and not arr.flags.c_contiguous),
        "version": "%d.%d" % (version or (1, 0)),
        "dataSha256": hashlib.sha256(c.tobytes()).hexdigest(),
    }
    if values is None:
        pass
    elif values:
        case["values"] = [encode_value(v, arr.dtype) for v in c.reshape(-1)]
    else:
        idx = [0, 1, 12345, c.size - 1]
        case["samples"] = {str(i): encode_value(c.reshape(-1)[i], arr.dtype) for i in idx}
        case["sum"] = float(c.astype(np.float64).sum())
    if expect_error:
        case["error"] = expect_error
    cases.append(case)


# Plain C-order arrays of every supported dtype (these are also byte-compared with cleave's writer).
save("f4_c", (np.arange(12, dtype=np.float32).reshape(3, 4) * np.float32(0.25) - np.float32(1.1)))
save("f8_c", rng.standard_normal((2, 3)))
save(
    "f2_c",
    np.array([[0.0, -0.0, 1.0, 0.1], [65504.0, 6e-8, 1e-5, -2.5]], dtype=np.float16),
)
save("i4_c", np.array([[-2147483648, -1, 0], [7, 2147483647, 42]], dtype=np.int32))
save("i8_small", np.arange(-5, 5, dtype=np.int64))
save("i8_big", np.array([0, 2**40, -3], dtype=np.int64))
save("u1", np.arange(0, 256, 17, dtype=np.uint8))
save("b1", np.array([True, False, True, True]))
save("f4_scalar", np.array(3.5, dtype=np.float32))
save("f4_empty", np.zeros((0, 5), dtype=np.float32))
save("f4_v2", rng.standard_normal((4, 5)).astype(np.float32), version=(2, 0))
save("f4_v3", rng.standard_normal((3, 2)).astype(np.float32), version=(3, 0))
# A bigger array (more elements than fit in 16 bits) checked by samples, sum and data hash.
save("f4_big", np.sin(np.arange(100_000, dtype=np.float64)).astype(np.float32), values=False)
save("f4_rows", rng.standard_normal((300, 64)).astype(np.float32), values=False)

# Fortran order.
save("f4_fortran_2d", np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4) * np.float32(1.5)))
save("f8_fortran_3d", np.asfortranarray(np.arange(24, dtype=np.float64).reshape(2, 3, 4) - 3.25))
save("i8_fortran_2d", np.asfortranarray(np.arange(6, dtype=np.int64).reshape(2, 3) * 1000))

# Non-finite values (the reader must name the position).
nan = rng.standard_normal((10, 5)).astype(np.float32)
nan[7, 3] = np.nan
save("f4_nan", nan, expect_error="row 7, column 3 is NaN")
inf = rng.standard_normal((4, 2))
inf[2, 1] = -np.inf
save("f8_inf", inf, expect_error="row 2, column 1 is -Infinity")
save("f2_special", np.array([np.inf, -np.inf, np.nan, 1.0], dtype=np.float16))

# Refused dtypes.
save("f4_bigendian", np.arange(4, dtype=">f4"), expect_error="big-endian")
save("structured", np.zeros(3, dtype=[("a", "<f4"), ("b", "<i4")]), values=None, expect_error="structured")
save("c8", np.zeros(3, dtype=np.complex64), values=None, expect_error="wrong dtype")

# An old-style file whose header is padded to 16 bytes (numpy < 1.14 did this), hand-made.
arr = np.arange(6, dtype=np.float64).reshape(2, 3) / 8
header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"
hlen = len(header) + 1
pad = 16 - ((10 + hlen) % 16)
raw = b"\x93NUMPY\x01\x00" + struct.pack("<H", hlen + pad) + header.encode("latin1") + b" " * pad + b"\n"
assert len(raw) % 64 != 0
with open(os.path.join(OUT, "f8_align16.npy"), "wb") as f:
    f.write(raw + arr.tobytes())
assert np.array_equal(np.load(os.path.join(OUT, "f8_align16.npy")), arr)
cases.append(
    {
        "file": "f8_align16.npy",
        "descr": "<f8",
        "shape": [2, 3],
        "fortran": False,
        "version": "1.0",
        "dataSha256": hashlib.sha256(arr.tobytes()).hexdigest(),
        "values": [float(v) for v in arr.reshape(-1)],
    }
)

# float32 -> float16 rounding as NumPy does it (ties to even, overflow to inf, subnormals), for the writer.
edge = np.array(
    [0.0, -0.0, 1.0, -1.0, 0.1, 1 / 3, 65504.0, 65519.99, 65520.0, 1e6, -1e6, 2.0**-24, 2.0**-25,
     1.5 * 2.0**-25, 2.0**-26, 2.0**-14, 2.0**-14 * (1 - 2.0**-11), 1 + 2.0**-11, 1 + 3 * 2.0**-11,
     np.inf, -np.inf, 6.1e-5, 3.0e-5, 1.0009765625, 2049.0, 2051.0],
    dtype=np.float32,
)
rand = np.concatenate([
    rng.standard_normal(2000).astype(np.float32),
    (rng.standard_normal(2000) * 1e-5).astype(np.float32),
    (rng.standard_normal(1000) * 3e4).astype(np.float32),
])
vals = np.concatenate([edge, rand])
with open(os.path.join(OUT, "float16_rounding.json"), "w") as f:
    json.dump(
        {"float32Bits": vals.view(np.uint32).tolist(), "float16Bits": vals.astype(np.float16).view(np.uint16).tolist()},
        f,
    )

with open(os.path.join(OUT, "npy_cases.json"), "w") as f:
    json.dump({"numpy": np.__version__, "cases": cases}, f, indent=1)
print("wrote", len(cases), "cases to", OUT)
