"""Reads an sslx run log with h5py alone: proof that users can load results without sslx.

Usage: read_run_log.py LOG_WRITER_CHILD WORK_DIR
Runs the test writer (which logs train/loss = 0.5 * step for 250 steps, val/loss = 100 - step
every 10 steps and eval accuracy = 0.75), then checks the file layout documented in
docs/hdf5-schema.md. Exits 77 (skipped) when h5py is not installed.
"""
import os
import shutil
import subprocess
import sys

try:
    import h5py
    import numpy as np
except ImportError:
    print("h5py or numpy not installed: skipped")
    sys.exit(77)

child, work = sys.argv[1], sys.argv[2]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
path = os.path.join(work, "log.h5")
subprocess.run([child, path, "250", "1000", "close"], check=True)

with h5py.File(path, "r") as f:
    assert f.attrs["status"] == "completed", f.attrs["status"]
    assert f.attrs["format_version"] == 1
    assert f.attrs["config"] == "seed = 1\n"
    assert f.attrs["start_time"].endswith("Z")
    train = f["metrics/train/loss"]
    assert train["step"].dtype == np.int64 and train["value"].dtype == np.float64
    assert train["time"].dtype == np.float64
    steps, values = train["step"][:], train["value"][:]
    assert np.array_equal(steps, np.arange(250)), steps
    assert np.allclose(values, 0.5 * np.arange(250))
    assert train["step"].maxshape == (None,), "datasets must be extendable"
    val = f["metrics/val/loss"]
    assert np.array_equal(val["step"][:], np.arange(0, 250, 10))
    summary = f["summary/val/loss"].attrs
    assert summary["min"] == 100 - 240 and summary["min_step"] == 240
    assert summary["count"] == 25
    assert f["eval"].attrs["accuracy"] == 0.75
print("h5py read the run log: ok")
