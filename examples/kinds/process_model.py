#!/usr/bin/python3
"""A learnware model of the *process* kind.

The dock runs this program in its sandbox and talks to it in the framed
model protocol (docs/model-protocol.md) on stdin and stdout.  A process
model may be any program; this one evaluates a learnware-model JSON file
(docs/models.md) lying beside it in the package, in plain Python (standard
library only), so the example needs nothing but Debian's python3.
build_kinds.sh ships it with the linear model `learnware train` fitted to
boston.csv, so its predictions are that model's.

    usage: process_model.py [MODEL.json]     (default: model.json beside it)
"""

import json
import math
import os
import struct
import sys


def load(path):
    with open(path) as f:
        m = json.load(f)
    if m.get("format") != "learnware-model" or m.get("version") != 1:
        raise ValueError("%s is not a learnware-model JSON file (version 1)" % path)
    d = m["input_dim"]
    m.setdefault("x_mean", [0.0] * d)
    m.setdefault("x_scale", [1.0] * d)
    return m


def predict_row(m, x):
    """One row through the standardisation and the dense layers."""
    # A missing (NaN) or infinite cell reads as its column's training mean: z = 0.
    h = [(v - mu) / s if math.isfinite(v) else 0.0
         for v, mu, s in zip(x, m["x_mean"], m["x_scale"])]
    for layer in m["layers"]:
        a = [b + sum(w * v for w, v in zip(row, h))
             for row, b in zip(layer["weights"], layer["bias"])]
        if layer["activation"] == "relu":
            a = [max(v, 0.0) for v in a]
        elif layer["activation"] == "softmax":
            top = max(a)
            e = [math.exp(v - top) for v in a]
            a = [v / sum(e) for v in e]
        h = a
    if "y_mean" in m:
        h = [mu + s * v for v, mu, s in zip(h, m["y_mean"], m["y_scale"])]
    return h


def read_exact(stream, n):
    buf = stream.read(n)
    if len(buf) != n:
        raise EOFError("input ended after %d of %d bytes" % (len(buf), n))
    return buf


def send_error(out, message):
    msg = message.encode("utf-8", "replace")[:65536]
    out.write(struct.pack("<qQ", -1, len(msg)) + msg)
    out.flush()


def main():
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        m = load(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "model.json"))
    except Exception as e:  # no hello: the host reports this message
        send_error(out, "cannot load the model: %s" % e)
        return 1
    d, k = m["input_dim"], m["output_dim"]
    out.write(b"LWMP" + struct.pack("<III", 1, d, k))  # hello: d columns in, k out
    out.flush()
    while True:
        head = inp.read(16)
        if len(head) == 0:
            return 0  # the host closed stdin: done
        try:
            if len(head) != 16:
                raise EOFError("a request header of %d bytes" % len(head))
            rows, cols = struct.unpack("<QQ", head)
            if cols != d:
                raise ValueError("expects %d input columns, got %d" % (d, cols))
            vals = struct.unpack("<%dd" % (rows * cols), read_exact(inp, 8 * rows * cols))
            y = []
            for i in range(rows):
                y.extend(predict_row(m, vals[i * cols:(i + 1) * cols]))
        except Exception as e:
            print("process_model: %s" % e, file=sys.stderr)  # logs go to stderr
            send_error(out, str(e))
            return 1
        out.write(struct.pack("<qQ", rows, k) + struct.pack("<%dd" % len(y), *y))
        out.flush()


if __name__ == "__main__":
    sys.exit(main())
