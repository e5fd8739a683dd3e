#!/usr/bin/env python3
"""heartphase-cli ecg info on every recording in the test data: the JSON it prints against
values this script reads independently (WFDB record lines, documented file layouts), and the
errors it gives for files it must refuse."""
import csv
import json
import os
import subprocess
import sys

CLI = sys.argv[1]
DATA = os.environ.get("HP_TEST_DATA", "")
STANDARD = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]

if not os.path.isdir(DATA):
    if os.environ.get("CI") == "true":
        print(f"test data folder {DATA!r} is missing", file=sys.stderr)
        sys.exit(1)
    print(f"SKIP: test data folder {DATA!r} not found")
    sys.exit(77)

failures = []
checked = 0


def canonical(name):
    for s in STANDARD:
        if name.lower() == s.lower():
            return s
    return name


def run(path):
    p = subprocess.run([CLI, "ecg", "info", path], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def expect_ok(path, fs, leads, samples, fmt):
    global checked
    rc, out, err = run(path)
    if rc != 0:
        failures.append(f"{path}: exit {rc}: {err.strip()}")
        return
    try:
        info = json.loads(out)
    except json.JSONDecodeError as e:
        failures.append(f"{path}: stdout is not one JSON object ({e}): {out[:200]!r}")
        return
    problems = []
    if abs(info["fs"] - fs) > 1e-6:
        problems.append(f"fs {info['fs']} != {fs}")
    if leads is not None and info["leads"] != leads:
        problems.append(f"leads {info['leads']} != {leads}")
    if info["samples"] != samples:
        problems.append(f"samples {info['samples']} != {samples}")
    if abs(info["duration_s"] - round(samples / fs, 2)) > 0.006:
        problems.append(f"duration_s {info['duration_s']} != {samples / fs:.2f}")
    if fmt is not None and not info["format"].startswith(fmt):
        problems.append(f"format {info['format']!r} is not {fmt!r}")
    if problems:
        failures.append(f"{path}: " + "; ".join(problems))
    checked += 1


def expect_error(path, must_say=None):
    global checked
    rc, out, err = run(path)
    if rc != 1:
        failures.append(f"{path}: expected exit status 1, got {rc} (stdout {out[:120]!r})")
    elif out.strip():
        failures.append(f"{path}: an error must not print JSON on stdout: {out[:120]!r}")
    elif path not in err and os.path.basename(path) not in err:
        failures.append(f"{path}: the error does not name the file: {err.strip()!r}")
    elif must_say and must_say.lower() not in err.lower():
        failures.append(f"{path}: the error does not say {must_say!r}: {err.strip()!r}")
    checked += 1


def wfdb_expectation(hea):
    """nsig, fs, nsamp and signal names straight from the header text."""
    lines = [l for l in open(hea, encoding="latin-1").read().splitlines()
             if l.strip() and not l.lstrip().startswith("#")]
    rec = lines[0].split()
    nsig = int(rec[1])
    fs = float(rec[2].split("/")[0]) if len(rec) > 2 else 250.0
    nsamp = int(rec[3])
    names = []
    for line in lines[1:1 + nsig]:
        fields = line.split()
        names.append(canonical(" ".join(fields[8:])) if len(fields) > 8 else None)
    spf = [int(l.split()[1].split("x")[1].split(":")[0].split("+")[0]) if "x" in l.split()[1] else 1
           for l in lines[1:1 + nsig]]
    return nsig, fs, nsamp, names, max(spf)


# Every WFDB record: record name without extension, as people type it.
for folder in ["mitdb", "mitdb-105-250hz", "svdb", "stdb", "ludb", "ptb", "qtdb"]:
    d = os.path.join(DATA, folder)
    for name in sorted(os.listdir(d)):
        if not name.endswith(".hea"):
            continue
        hea = os.path.join(d, name)
        nsig, fs, nsamp, names, spf = wfdb_expectation(hea)
        expect_ok(hea[:-4], fs * spf, names, nsamp * spf, "WFDB")

# One record given with its .hea too.
expect_ok(os.path.join(DATA, "mitdb", "100.hea"), 360.0, ["MLII", "V5"], 650000, "WFDB")

# The other formats, with what their documented layouts say.
expect_ok(os.path.join(DATA, "ecg-xml", "ukbb_scrubbed.xml"), 500.0, STANDARD, 5000, "CardioSoft")
muse = open(os.path.join(DATA, "ecg-xml", "muse_ecg_deidentified_1.xml"), encoding="latin-1").read()
muse_rhythm = muse[muse.index("<WaveformType>Rhythm"):]
muse_fs = float(muse_rhythm.split("<SampleBase>")[1].split("<")[0])
muse_n = int(muse_rhythm.split("<LeadSampleCountTotal>")[1].split("<")[0])
expect_ok(os.path.join(DATA, "ecg-xml", "muse_ecg_deidentified_1.xml"), muse_fs, STANDARD, muse_n, "MUSE")

hl7 = open(os.path.join(DATA, "hl7-aecg", "ecg_hl7.xml"), encoding="utf-8").read()
hl7_n = len(hl7.split("<digits>")[1].split("</digits>")[0].split())
expect_ok(os.path.join(DATA, "hl7-aecg", "ecg_hl7.xml"), 500.0, None, hl7_n, "HL7")

# DICOM waveform: 12 channels x 10000 samples at 1000 Hz in its RHYTHM group (dcmdump).
expect_ok(os.path.join(DATA, "dicom", "waveform_ecg.dcm"), 1000.0, None, 10000, "DICOM")

# EDF+: 600 one-second records, 11 signals at 200 Hz plus an annotation channel (header text).
edf = open(os.path.join(DATA, "edf", "test_generator_2.edf"), "rb").read(256)
n_records = int(edf[236:244])
record_s = float(edf[244:252])
expect_ok(os.path.join(DATA, "edf", "test_generator_2.edf"), 200.0, None,
          int(n_records * record_s * 200), "EDF")

# Files to refuse, with the file named in the message.
expect_error(os.path.join(DATA, "edf", "test_generator_2.hea"), ".dat")  # its signal file is absent
expect_error(os.path.join(DATA, "edf", "test_edfann.edf"))             # annotations only, no signal
expect_error(os.path.join(DATA, "dicom", "MR_small.dcm"), "image")      # an MR image, not an ECG
expect_error(os.path.join(DATA, "dicom", "MR_truncated.dcm"))
expect_error(os.path.join(DATA, "cine-sunnybrook", "link.csv"))
expect_error(os.path.join(DATA, "no-such-record"), "no such file")



# ---- ecg beats -------------------------------------------------------------------------------
BEAT_CODES = set(range(1, 14)) | {25, 30, 34, 35, 38, 41}


def atr_beats(path):
    """Beat-label count of an MIT annotation file, read here from the format's 16-bit words."""
    data = open(path, "rb").read()
    count, i = 0, 0
    while i + 1 < len(data):
        word = data[i] | (data[i + 1] << 8)
        code, value = word >> 10, word & 0x3FF
        i += 2
        if code == 0 and value == 0:
            break
        if code == 59:        # SKIP: a 32-bit interval follows
            i += 4
        elif code == 63:      # AUX: value bytes, padded to even
            i += value + (value & 1)
        elif code in BEAT_CODES:
            count += 1
    return count


def beats(path):
    p = subprocess.run([CLI, "ecg", "beats", path], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        failures.append(f"ecg beats {path}: exit {p.returncode}: {p.stderr.strip()}")
        return None
    try:
        return json.loads(p.stdout)
    except json.JSONDecodeError as e:
        failures.append(f"ecg beats {path}: stdout is not one JSON object ({e})")
        return None


def expect_beats(rel, fs):
    global checked
    path = os.path.join(DATA, rel)
    out = beats(path)
    if out is None:
        return
    problems = []
    for key in ("fs", "r_peaks", "hr_bpm", "rejected", "lead", "reason"):
        if key not in out:
            problems.append(f"no {key!r}")
    if problems:
        failures.append(f"ecg beats {rel}: " + "; ".join(problems))
        return
    ref = atr_beats(path + ".atr")
    peaks = out["r_peaks"]
    if abs(out["fs"] - fs) > 1e-6:
        problems.append(f"fs {out['fs']} != {fs}")
    if not all(isinstance(r, int) for r in peaks) or peaks != sorted(set(peaks)):
        problems.append("r_peaks are not increasing sample indices")
    if abs(len(peaks) - ref) > 0.01 * ref:
        problems.append(f"{len(peaks)} R peaks, the reference has {ref} beats")
    duration_min = (peaks[-1] - peaks[0]) / fs / 60 if len(peaks) > 1 else 0
    if duration_min <= 0 or abs(out["hr_bpm"] - (len(peaks) - 1) / duration_min) > 2:
        problems.append(f"hr_bpm {out['hr_bpm']} does not fit the R peaks")
    if out["reason"] is not None or out["rejected"] != []:
        problems.append(f"unexpected reason {out['reason']!r} or rejected {out['rejected']!r}")
    if problems:
        failures.append(f"ecg beats {rel}: " + "; ".join(problems))
    checked += 1


expect_beats("mitdb/100", 360.0)
expect_beats("svdb/800", 128.0)

# A flat WFDB record written here: no beats, the reason, the stretch, exit status 0.
import struct
import tempfile
with tempfile.TemporaryDirectory() as tmp:
    rec = os.path.join(tmp, "flat")
    with open(rec + ".hea", "w") as f:
        # the 16-bit checksum of 5000 samples of 100 adu, as a signed number
        check = (5000 * 100 + 32768) % 65536 - 32768
        f.write(f"flat 2 500 5000\nflat.dat 16 200 16 0 0 {check} 0 I\n"
                f"flat.dat 16 200 16 0 0 {check} 0 II\n")
    with open(rec + ".dat", "wb") as f:
        f.write(struct.pack("<10000h", *([100] * 10000)))
    out = beats(rec)
    if out is not None:
        if out["r_peaks"] != [] or "flat" not in (out["reason"] or "") or out["hr_bpm"] is not None \
                or out["rejected"] != [{"start": 0, "end": 5000, "reason": "flat"}]:
            failures.append(f"ecg beats on a flat record: {out}")
        checked += 1
    p = subprocess.run([CLI, "ecg", "beats", os.path.join(tmp, "missing")], capture_output=True,
                       text=True, timeout=60)
    if p.returncode != 1 or p.stdout.strip() or "missing" not in p.stderr:
        failures.append(f"ecg beats on a missing file: exit {p.returncode}, {p.stderr.strip()!r}")
    checked += 1

# ---- ecg delineate ---------------------------------------------------------------------------
def mit_annotations(path):
    """(sample, code) of every annotation in an MIT file: code 1-49 with its time increment,
    SKIP, NUM/SUB/CHN/AUX ignored."""
    data = open(path, "rb").read()
    out, t, i = [], 0, 0
    while i + 1 < len(data):
        word = data[i] | (data[i + 1] << 8)
        code, value = word >> 10, word & 0x3FF
        i += 2
        if code == 0 and value == 0:
            break
        if code == 59:
            hi = data[i] | (data[i + 1] << 8)
            lo = data[i + 2] | (data[i + 3] << 8)
            skip = (hi << 16) | lo
            t += skip - (1 << 32) if skip >= (1 << 31) else skip
            i += 4
        elif code == 63:
            i += value + (value & 1)
        elif code in (60, 61, 62):
            pass
        else:
            t += value
            out.append((t, code))
    return out


def expect_delineation(rel, annotation_ext, fs):
    """LUDB's cardiologists' QRS onsets and T offsets on one lead against ecg delineate's
    multi-lead fiducials: every annotated beat found, boundaries within 30 / 60 ms (accuracy
    itself is for the scorers)."""
    global checked
    path = os.path.join(DATA, rel)
    p = subprocess.run([CLI, "ecg", "delineate", path], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        failures.append(f"ecg delineate {rel}: exit {p.returncode}: {p.stderr.strip()}")
        return
    out = json.loads(p.stdout)
    problems = []
    if out["fs"] != fs:
        problems.append(f"fs {out['fs']}")
    marks = mit_annotations(path + "." + annotation_ext)
    # "(" is code 39, ")" 40, N 1, t 27: a QRS is "(" N ")", a T wave [ "(" ] t ")"
    for k, (t, code) in enumerate(marks):
        if code != 1:
            continue
        qrs_on = marks[k - 1][0] if k > 0 and marks[k - 1][1] == 39 else None
        t_off = next((marks[j + 1][0] for j in range(k + 1, len(marks) - 1)
                      if marks[j][1] == 27 and marks[j + 1][1] == 40), None)
        near = [b for b in out["beats"] if abs(b["r"] - t) <= 0.15 * fs]
        if not near:
            problems.append(f"annotated beat at {t} not found")
            continue
        b = near[0]
        if qrs_on is not None and (b["qrs_on"] is None or abs(b["qrs_on"] - qrs_on) > 0.030 * fs):
            problems.append(f"QRS onset {b['qrs_on']} vs {qrs_on}")
        if t_off is not None and (b["t_off"] is None or abs(b["t_off"] - t_off) > 0.060 * fs):
            problems.append(f"T offset {b['t_off']} vs {t_off}")
    if problems:
        failures.append(f"ecg delineate {rel}: " + "; ".join(problems))
    checked += 1


expect_delineation("ludb/1", "ii", 500.0)

# ---- ecg beat --------------------------------------------------------------------------------
def expect_beat(rel, device_qrs_ms, device_qt_ms):
    """The UK Biobank-style record's median beat: framed as the cart's (600 samples at 500 Hz),
    its QRS and QT within 10 ms of the cart's, and the CSV it writes."""
    global checked
    with tempfile.TemporaryDirectory() as tmp:
        csv = os.path.join(tmp, "beat.csv")
        p = subprocess.run([CLI, "ecg", "beat", os.path.join(DATA, rel), "--csv", csv],
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            failures.append(f"ecg beat {rel}: exit {p.returncode}: {p.stderr.strip()}")
            return
        out = json.loads(p.stdout)
        f = out["fiducials"]
        problems = []
        if out["fs"] != 500.0 or out["samples"] != 600 or len(out["leads"]) != 12:
            problems.append(f"framing {out['fs']} Hz x {out['samples']}, {len(out['leads'])} leads")
        if out["kept"] < 0.8 * out["beats"]:
            problems.append(f"kept {out['kept']} of {out['beats']}")
        qrs = (f["qrs_off"] - f["qrs_on"]) * 1000 / out["fs"]
        qt = (f["t_off"] - f["qrs_on"]) * 1000 / out["fs"]
        if abs(qrs - device_qrs_ms) > 10 or abs(qt - device_qt_ms) > 10:
            problems.append(f"QRS {qrs} ms, QT {qt} ms vs the cart's {device_qrs_ms}, {device_qt_ms}")
        rows = open(csv).read().splitlines()
        if len(rows) != 601 or rows[0].split(",")[1:] != list(out["leads"].keys()) \
                or abs(float(rows[1].split(",")[1]) - out["leads"]["I"][0]) > 1e-4:
            problems.append(f"CSV: {len(rows)} rows, header {rows[0][:60]!r}")
        if problems:
            failures.append(f"ecg beat {rel}: " + "; ".join(problems))
        checked += 1


expect_beat("ecg-xml/ukbb_scrubbed.xml", 76, 378)

# ---- cmr info --------------------------------------------------------------------------------
# The JSON against the files' own headers: DICOM as dcmdump (package dcmtk) prints them, NIfTI
# from the header bytes.
import gzip
import shutil


def cmr_info(path):
    p = subprocess.run([CLI, "cmr", "info", path], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def dcmdump_headers(files):
    """Per file: SeriesInstanceUID, Rows, Columns, InstanceNumber, ImagePositionPatient,
    ImageOrientationPatient, PixelSpacing, TriggerTime (None where absent)."""
    tags = {"0020,000e": "uid", "0028,0010": "rows", "0028,0011": "columns",
            "0020,0013": "instance", "0020,0032": "ipp", "0020,0037": "iop",
            "0028,0030": "spacing", "0018,1060": "trigger"}
    args = ["dcmdump", "-q", "+F"]
    for t in tags:
        args += ["+P", t]
    out = subprocess.run(args + files, capture_output=True, text=True, timeout=120,
                         check=True).stdout
    heads, cur = [], None
    for line in out.splitlines():
        if line.startswith("# dcmdump ("):
            cur = {"trigger": None}
            heads.append(cur)
            continue
        if cur is None or not line.startswith("("):
            continue
        key = tags.get(line[1:10])
        if key is None:
            continue
        if "[" in line:
            value = line[line.index("[") + 1:line.index("]")]
        else:
            value = line[15:].split("#")[0].strip()
        if key == "uid":
            cur[key] = value
        elif key in ("rows", "columns", "instance"):
            cur[key] = int(value)
        elif key == "trigger":
            cur[key] = float(value)
        else:
            cur[key] = [float(x) for x in value.split("\\")]
    assert len(heads) == len(files), f"dcmdump described {len(heads)} of {len(files)} files"
    return heads


def expect_cmr_dicom(folder, n_slices):
    """A classic single-frame short-axis series: slices are positions along the plane normal
    (row x column of ImageOrientationPatient), each slice's frames ordered by TriggerTime."""
    global checked
    files = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".dcm"))
    heads = dcmdump_headers(files)
    r, c = heads[0]["iop"][:3], heads[0]["iop"][3:]
    n = [r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]]
    norm = sum(x * x for x in n) ** 0.5
    n = [x / norm for x in n]
    slices = {}
    for h in heads:
        loc = round(sum(p * q for p, q in zip(h["ipp"], n)), 2)
        slices.setdefault(loc, []).append(h)
    locs = sorted(slices)
    gaps = sorted(b - a for a, b in zip(locs, locs[1:]))
    spacing = gaps[len(gaps) // 2] if len(gaps) % 2 else (gaps[len(gaps) // 2 - 1] + gaps[len(gaps) // 2]) / 2
    rc, out, err = cmr_info(folder)
    if rc != 0:
        failures.append(f"cmr info {folder}: exit {rc}: {err.strip()}")
        return
    info = json.loads(out)
    problems = []
    if len(info["series"]) != 1:
        problems.append(f"{len(info['series'])} series")
    s = info["series"][0]
    frames = len(heads) // len(slices)
    if len(slices) != n_slices or s["slices"] != len(slices) or s["frames"] != frames:
        problems.append(f"{s['slices']} slices x {s['frames']} frames, the headers say "
                        f"{len(slices)} x {frames}")
    if s["view"] != "SAX" or s["rows"] != heads[0]["rows"] or s["columns"] != heads[0]["columns"]:
        problems.append(f"view {s['view']}, {s['rows']} x {s['columns']}")
    if s["series_uid"] != heads[0]["uid"]:
        problems.append(f"series UID {s['series_uid']} != {heads[0]['uid']}")
    want = heads[0]["spacing"] + [spacing]
    if any(abs(a - b) > 1e-3 for a, b in zip(s["spacing_mm"], want)):
        problems.append(f"spacing {s['spacing_mm']} != {want}")
    # each slice's trigger times, matched by its location along the normal
    for loc, times in zip(s["slice_locations_mm"], s["trigger_times_ms"]):
        match = [k for k in locs if abs(k - loc) < 0.01]
        if len(match) != 1:
            problems.append(f"no slice at {loc} mm")
            continue
        expect = sorted(h["trigger"] for h in slices[match[0]])
        if times != expect:
            problems.append(f"slice at {loc:.2f} mm: trigger times {times} != {expect}")
    # stack order follows the scan's numbering: the first slice holds image 1
    first = [k for k in locs if abs(k - s["slice_locations_mm"][0]) < 0.01]
    if first and min(h["instance"] for h in slices[first[0]]) != min(h["instance"] for h in heads):
        problems.append("the first slice does not hold the first image")
    if problems:
        failures.append(f"cmr info {folder}: " + "; ".join(problems))
    checked += 1


def nifti_header(path):
    b = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
    if struct.unpack("<i", b[:4])[0] == 348:
        return list(struct.unpack("<8h", b[40:56])), list(struct.unpack("<8f", b[76:108]))
    return list(struct.unpack("<8q", b[16:80])), list(struct.unpack("<8d", b[104:168]))


def expect_cmr_nifti(path):
    global checked
    dim, pixdim = nifti_header(path)
    rc, out, err = cmr_info(path)
    if rc != 0:
        failures.append(f"cmr info {path}: exit {rc}: {err.strip()}")
        return
    s = json.loads(out)["series"][0]
    problems = []
    if [s["columns"], s["rows"], s["slices"], s["frames"]] != dim[1:5]:
        problems.append(f"{s['columns']} x {s['rows']} x {s['slices']} x {s['frames']} != {dim[1:5]}")
    want = [pixdim[2], pixdim[1], pixdim[3]]
    if any(abs(a - b) > 1e-4 for a, b in zip(s["spacing_mm"], want)):
        problems.append(f"spacing {s['spacing_mm']} != {want}")
    for times in s["trigger_times_ms"]:
        if any(t is None for t in times) or times != sorted(times) or len(set(times)) != len(times):
            problems.append(f"trigger times {times} are not increasing")
            break
    if problems:
        failures.append(f"cmr info {path}: " + "; ".join(problems))
    checked += 1


if shutil.which("dcmdump") is None:
    if os.environ.get("CI") == "true":
        failures.append("dcmdump (package dcmtk) is missing: cmr info cannot be checked")
    else:
        print("SKIP: cmr info on DICOM: dcmdump (package dcmtk) is not installed")
else:
    expect_cmr_dicom(os.path.join(DATA, "cine-sunnybrook", "SCD0000101", "dicom"), 12)
    expect_cmr_dicom(os.path.join(DATA, "cine-sunnybrook", "SCD0000301", "dicom"), 10)
expect_cmr_nifti(os.path.join(DATA, "nifti", "example4d.nii.gz"))
expect_cmr_nifti(os.path.join(DATA, "nifti", "example_nifti2.nii.gz"))
for name in ["MR_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm"]:
    rc, out, err = cmr_info(os.path.join(DATA, "dicom", name))
    s = json.loads(out)["series"][0] if rc == 0 else None
    if s is None or [s["slices"], s["frames"], s["rows"], s["columns"]] != [1, 1, 64, 64] \
            or s["trigger_times_ms"] != [[None]] or s["view"] != "other":
        failures.append(f"cmr info {name}: exit {rc}: {s or err.strip()}")
    checked += 1


def expect_cmr_error(path, must_say):
    global checked
    rc, out, err = cmr_info(path)
    if rc != 1 or out.strip():
        failures.append(f"cmr info {path}: expected exit status 1 and no JSON, got {rc}: {out[:100]!r}")
    elif path not in err:
        failures.append(f"cmr info {path}: the error does not name the file: {err.strip()!r}")
    elif must_say.lower() not in err.lower():
        failures.append(f"cmr info {path}: the error does not say {must_say!r}: {err.strip()!r}")
    checked += 1


expect_cmr_error(os.path.join(DATA, "dicom", "waveform_ecg.dcm"), "waveform")
expect_cmr_error(os.path.join(DATA, "dicom", "MR_truncated.dcm"), "truncated")
expect_cmr_error(os.path.join(DATA, "no-such-cine"), "no such file")
with tempfile.TemporaryDirectory() as tmp:
    expect_cmr_error(tmp, "no cine images")
    # a 3-D NIfTI-1 volume: header (dim[0] = 3, int16) and its voxels
    hdr = bytearray(352)
    struct.pack_into("<i", hdr, 0, 348)
    struct.pack_into("<8h", hdr, 40, 3, 4, 4, 2, 1, 1, 1, 1)
    struct.pack_into("<hh", hdr, 70, 4, 16)
    struct.pack_into("<8f", hdr, 76, 1, 1, 1, 1, 1, 1, 1, 1)
    struct.pack_into("<f", hdr, 108, 352)
    hdr[344:348] = b"n+1\0"
    vol = os.path.join(tmp, "volume.nii.gz")
    with gzip.open(vol, "wb") as f:
        f.write(bytes(hdr) + bytes(2 * 4 * 4 * 2))
    expect_cmr_error(vol, "4 dimensions")
    whole = open(os.path.join(DATA, "nifti", "example4d.nii.gz"), "rb").read()
    cut = os.path.join(tmp, "cut.nii.gz")
    with open(cut, "wb") as f:
        f.write(whole[:len(whole) // 2])
    expect_cmr_error(cut, "truncated")

# ---- synth-cine and cmr phases -----------------------------------------------------------------
# A generated cine written by synth-cine (DICOM and NIfTI) is read back by cmr info and analysed
# by cmr phases: the timeline must be the generator's own (truth.json), within a frame.
def cli_json(args):
    p = subprocess.run([CLI] + args, capture_output=True, text=True, timeout=300)
    try:
        return p.returncode, json.loads(p.stdout) if p.returncode == 0 else None, p.stderr
    except ValueError:
        return p.returncode, None, p.stderr


def cyclic(a, b, n):
    d = abs(a - b) % n
    return min(d, n - d)


with tempfile.TemporaryDirectory() as tmp:
    for fmt in ["dicom", "nifti"]:
        out = os.path.join(tmp, fmt)
        args = ["synth-cine", "--out", out, "--seed", "11", "--frames", "25", "--slices", "9"]
        rc, made, err = cli_json(args + (["--nifti"] if fmt == "nifti" else []))
        checked += 1
        if rc != 0 or made is None:
            failures.append(f"synth-cine {fmt}: exit {rc}: {err.strip()}")
            continue
        truth = json.load(open(made["truth"]))
        rc, info, err = cli_json(["cmr", "info", made["sax"]])
        if rc != 0 or info is None:
            failures.append(f"cmr info on the generated {fmt}: exit {rc}: {err.strip()}")
            continue
        sax = info["series"][0]
        problems = []
        if (sax["view"], sax["slices"], sax["frames"]) != ("SAX", 9, 25):
            problems.append(f"series {sax['view']} {sax['slices']}x{sax['frames']}, not SAX 9x25")
        if abs(sax["spacing_mm"][2] - 10.0) > 1e-3:
            problems.append(f"slice spacing {sax['spacing_mm'][2]}, not 10 mm")
        rc, ph, err = cli_json(["cmr", "phases", made["sax"]])
        if rc != 0 or ph is None:
            failures.append(f"cmr phases on the generated {fmt}: exit {rc}: {err.strip()}")
            continue
        if len(ph["volume_ml"]) != 25 or ph["frames"] != 25:
            problems.append(f"{len(ph['volume_ml'])} volumes for 25 frames")
        if cyclic(ph["ed"], truth["ed"], 25) > 1 or cyclic(ph["es"], truth["es"], 25) > 1:
            problems.append(f"ED {ph['ed']} ES {ph['es']}, truth ED {truth['ed']} ES {truth['es']}")
        if abs(ph["edv_ml"] - truth["edv_ml"]) > 0.12 * truth["edv_ml"]:
            problems.append(f"EDV {ph['edv_ml']:.0f} mL, truth {truth['edv_ml']:.0f}")
        if ph["method"] != "blood-pool" or not 0 <= ph["confidence"] <= 1:
            problems.append(f"method {ph['method']}, confidence {ph['confidence']}")
        if problems:
            failures.append(f"synth-cine/cmr phases ({fmt}): " + "; ".join(problems))
    # bad arguments and bad input: exit status, no JSON, a message naming the problem
    for args, words in [(["synth-cine", "--frames", "1", "--out", tmp], "usage"),
                        (["synth-cine", "--seed", "x", "--out", tmp], "usage"),
                        (["synth", "--subjects", "3"], "synth: missing --out DIR"),
                        (["embed", "--run", tmp], "embed: missing --data FILE, --out FILE"),
                        (["project", "x.csv", "--method", "umap", "--out", "xy.csv"],
                         "--method takes pca or tsne, not umap"),
                        (["frobnicate"], "unknown command frobnicate"),
                        (["project", "x.csv", "--method", "pca", "--seed", "x1", "--out", "xy.csv"],
                         "--seed takes a whole number, not x1"),
                        (["ecg", "info"], "ecg info: wrong arguments"),
                        (["cmr", "phases", os.path.join(DATA, "dicom", "MR_truncated.dcm")],
                         "MR_truncated.dcm")]:
        p = subprocess.run([CLI] + args, capture_output=True, text=True, timeout=60)
        checked += 1
        if p.returncode == 0 or p.stdout.strip() or words.lower() not in p.stderr.lower():
            failures.append(f"{' '.join(args)}: exit {p.returncode}, stderr {p.stderr.strip()[:120]!r}")

# ---- synth, sync, set-offset, offsets -------------------------------------------------------------
# A small synthetic cohort: its table, a subject's sync against its truth, a hand-tuned offset kept
# in the project file and taken by sync, the CSV export, and the offset forgotten again.
with tempfile.TemporaryDirectory() as tmp:
    cohort = os.path.join(tmp, "cohort")
    rc, made, err = cli_json(["synth", "--subjects", "2", "--seed", "7", "--out", cohort,
                              "--small", "--frames", "30", "--slices", "6"])
    checked += 1
    problems = []
    if rc != 0 or made is None:
        failures.append(f"synth: exit {rc}: {err.strip()}")
    else:
        with open(os.path.join(cohort, "cohort.csv")) as f:
            rows = list(csv.DictReader(f))
        if [r["subject"] for r in rows] != ["sub0001", "sub0002"]:
            problems.append(f"subjects {[r['subject'] for r in rows]}")
        sub = os.path.join(cohort, "sub0001")
        rc, s, err = cli_json(["sync", sub])
        if rc != 0 or s is None:
            problems.append(f"sync: exit {rc}: {err.strip()}")
        else:
            truth = float(rows[0]["trigger_delay_ms"])
            if len(s["frame_ecg_ms"]) != 30 or s["hand_tuned"]:
                problems.append(f"{len(s['frame_ecg_ms'])} frames, hand_tuned {s['hand_tuned']}")
            if s["method"] == "landmarks" and abs(s["offset_ms"] - truth) > 30:
                problems.append(f"offset {s['offset_ms']:.1f} ms, truth {truth:.1f}")
            rc, _, err = cli_json(["set-offset", cohort, "sub0001", "57.5"])
            rc2, t, err2 = cli_json(["sync", sub])
            if rc != 0 or t is None or not t["hand_tuned"] or t["offset_ms"] != 57.5 \
                    or abs(t["estimated_offset_ms"] - s["offset_ms"]) > 1e-9:
                problems.append(f"hand-tuned sync: {err.strip()} {err2.strip()} {t and t['offset_ms']}")
            p = subprocess.run([CLI, "offsets", cohort], capture_output=True, text=True, timeout=60)
            if p.stdout != "subject,offset_ms\nsub0001,57.500\n":
                problems.append(f"offsets: {p.stdout!r}")
            rc, _, err = cli_json(["set-offset", cohort, "sub0001", "reset"])
            rc2, u, _ = cli_json(["sync", sub])
            if rc != 0 or u is None or u["hand_tuned"] or u["offset_ms"] != s["offset_ms"]:
                problems.append("reset did not bring the estimate back")
            p = subprocess.run([CLI, "set-offset", cohort, "sub0099", "3"], capture_output=True,
                               text=True, timeout=60)
            if p.returncode == 0 or "sub0099" not in p.stderr:
                problems.append(f"unknown subject: exit {p.returncode}, {p.stderr.strip()!r}")
            # measure: every subject's figures, the estimate the same as sync's, kept as a cache
            p = subprocess.run([CLI, "measure", cohort], capture_output=True, text=True,
                               timeout=300)
            lines = p.stdout.splitlines()
            if p.returncode != 0 or len(lines) != 4 or not lines[0].startswith("# heartphase"):
                problems.append(f"measure: exit {p.returncode}, {p.stdout!r} {p.stderr[-200:]!r}")
            else:
                m = list(csv.DictReader(lines[1:]))
                if [r["subject"] for r in m] != ["sub0001", "sub0002"] \
                        or abs(float(m[0]["offset_ms"]) - s["offset_ms"]) > 0.01 \
                        or abs(float(m[0]["hr_bpm"]) - float(rows[0]["hr_ecg_bpm"])) > 5:
                    problems.append(f"measure: {m}")
                cache = os.path.join(cohort, "heartphase-measured.csv")
                if not os.path.isfile(cache) or open(cache).read() != p.stdout:
                    problems.append("measure: the cache is not what was printed")
            p = subprocess.run([CLI, "measure", os.path.join(tmp, "nowhere")],
                               capture_output=True, text=True, timeout=60)
            if p.returncode == 0 or "nowhere" not in p.stderr:
                problems.append(f"measure of no cohort: exit {p.returncode}, {p.stderr!r}")
            # one file of the second subject's short-axis cine cut short: cmr info, cmr phases
            # and sync still answer, each listing the file and the slice left out
            sax = os.path.join(cohort, "sub0002", "sax")
            names = sorted(os.listdir(sax))
            victim = os.path.join(sax, names[len(names) // 2])
            with open(victim, "r+b") as f:
                f.truncate(500)
            for args in (["cmr", "info", sax], ["cmr", "phases", sax],
                         ["sync", os.path.join(cohort, "sub0002")]):
                rc, out, err = cli_json(args)
                left = out.get("left_out") if out else None
                if rc != 0 or not left or len(left) != 2 or victim not in left[0] \
                        or "the slice is left out" not in left[1]:
                    problems.append(f"{args[0]} {args[1]} on a damaged cine: exit {rc}, "
                                    f"left_out {left}, {err.strip()}")
            rc, out, _ = cli_json(["cmr", "info", os.path.join(cohort, "sub0001", "sax")])
            if rc != 0 or out.get("left_out") != []:
                problems.append(f"cmr info on a whole cine: left_out {out and out.get('left_out')}")
    if problems:
        failures.append("synth/sync/set-offset: " + "; ".join(problems))

print(f"checked {checked} files, {len(failures)} wrong")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
