"""Run a reference-format learnware as a process model of the learnware dock.

The dock starts this with Debian's /usr/bin/python3 inside its sandbox:

    python3 -I -B learnware_shim.py PACKAGE_DIR MODULE_PATH CLASS_NAME KWARGS_JSON

It imports MODULE_PATH (relative to PACKAGE_DIR, which goes on sys.path) the
way the reference engine does, builds CLASS_NAME(**kwargs), and answers
predict requests in the framed protocol of docs/model-protocol.md on
stdin/stdout.  Whatever fails, in the import, the constructor or predict,
goes back to the dock as an error frame, with the traceback on stderr.
"""

import importlib.util
import json
import os
import struct
import sys
import traceback
import types

MAGIC = b"LWMP"
VERSION = 1
MAX_DIM = 1 << 20
MAX_MESSAGE = 4096


def read_exact(stream, n):
    """n bytes, or None at a clean end of input before the first byte."""
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = stream.readinto(view[got:])
        if not k:
            if got == 0:
                return None
            raise EOFError("input ended after %d of %d bytes" % (got, n))
        got += k
    return buf


def send_error(out, exc):
    """An error frame: a negative status, the message's length, the message."""
    text = "%s: %s" % (type(exc).__name__, exc) if str(exc) else type(exc).__name__
    msg = text.encode("utf-8", "replace")[:MAX_MESSAGE]
    out.write(struct.pack("<qQ", -1, len(msg)) + msg)
    out.flush()


def install_base_model():
    """The reference's learnware.model.BaseModel, for packages that import it:
    the real package is not installed (and would pull in torch)."""
    if "learnware.model" in sys.modules:
        return

    class BaseModel:
        def __init__(self, input_shape=None, output_shape=None):
            self.input_shape = input_shape
            self.output_shape = output_shape

        def predict(self, X):
            raise NotImplementedError("predict() is not implemented")

        def fit(self, X, y):
            raise NotImplementedError("fit() is not implemented")

        def finetune(self, X, y):
            raise NotImplementedError("finetune() is not implemented")

    package = types.ModuleType("learnware")
    package.__path__ = []
    module = types.ModuleType("learnware.model")
    module.BaseModel = BaseModel
    package.model = module
    sys.modules.setdefault("learnware", package)
    sys.modules["learnware.model"] = module


def load_model(package_dir, module_path, class_name, kwargs_json):
    kwargs = json.loads(kwargs_json)
    if not isinstance(kwargs, dict):
        raise TypeError("kwargs must be a JSON object, got %s" % type(kwargs).__name__)
    install_base_model()
    sys.path.insert(0, package_dir)
    path = os.path.join(package_dir, module_path)
    name = "learnware_package"
    # __init__.py makes the package itself the module, so relative imports work
    locations = [os.path.dirname(path)] if os.path.basename(path) == "__init__.py" else None
    spec = importlib.util.spec_from_file_location(name, path,
                                                  submodule_search_locations=locations)
    if spec is None:
        raise ImportError("cannot import %s" % module_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    cls = getattr(module, class_name, None)
    if cls is None:
        raise AttributeError("%s has no class %s" % (module_path, class_name))
    # the reference puts the class on __main__, where pickles may look for it
    setattr(sys.modules["__main__"], class_name, cls)
    return cls(**kwargs)


def shape_width(shape, what):
    """Columns of a reference shape: None is any, (d,) is d, (c, h, w) is c*h*w."""
    if shape is None:
        return 0
    dims = (shape,) if isinstance(shape, int) else tuple(shape)
    width = 1
    for d in dims:
        if d is None:
            return 0
        width *= int(d)
    if not 0 <= width <= MAX_DIM:
        raise ValueError("%s %r is out of range" % (what, shape))
    return width


def as_rows(y, rows, np):
    """predict's answer as a rows x k float64 array: labels become one column."""
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise TypeError("predict returned %s values, not numbers" % y.dtype)
    if y.ndim == 0 or y.shape[0] != rows:
        raise ValueError("predict returned shape %s for %d rows" % (y.shape, rows))
    return np.ascontiguousarray(y.reshape(rows, -1), dtype="<f8")


def serve(model, inp, out, np):
    in_shape = getattr(model, "input_shape", None)
    in_dims = tuple(in_shape) if isinstance(in_shape, (tuple, list)) else ()
    while True:
        head = read_exact(inp, 16)
        if head is None:
            return 0
        rows, cols = struct.unpack("<QQ", head)
        X = np.frombuffer(read_exact(inp, rows * cols * 8), dtype="<f8").reshape(rows, cols)
        if len(in_dims) > 1 and None not in in_dims:
            X = X.reshape((rows,) + in_dims)
        try:
            y = as_rows(model.predict(X), rows, np)
        except Exception as exc:
            traceback.print_exc()
            send_error(out, exc)
            return 1
        out.write(struct.pack("<qQ", rows, y.shape[1]))
        out.write(y.tobytes())
        out.flush()


def main(argv):
    # fds 0 and 1 carry the protocol: keep them private, so a print() or a
    # library writing to stdout cannot corrupt a frame
    inp = os.fdopen(os.dup(0), "rb")
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    if len(argv) != 5:
        send_error(out, RuntimeError("usage: learnware_shim.py PACKAGE MODULE CLASS KWARGS"))
        return 2
    try:
        import numpy as np
        model = load_model(*argv[1:])
        widths = (shape_width(getattr(model, "input_shape", None), "input_shape"),
                  shape_width(getattr(model, "output_shape", None), "output_shape"))
    except BaseException as exc:
        traceback.print_exc()
        send_error(out, exc)
        return 1
    out.write(MAGIC + struct.pack("<III", VERSION, *widths))
    out.flush()
    return serve(model, inp, out, np)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
