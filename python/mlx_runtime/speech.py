"""Speech data: reading audio files, manifests of (audio, transcript), and the offline demo set.

``read_audio`` turns a WAV, FLAC or OGG file into a mono float waveform at the rate asked
for (soundfile decodes, torchaudio resamples); a file that cannot be read is a ``DataError``
naming it. ``read_manifest`` reads JSON Lines or CSV manifests, with each row's line number
so that a bad transcript can be reported where it is.

``build_demo`` makes the offline demo set with Debian's espeak-ng: spoken digit strings
("four two seven") and short command words ("go left"), each said by several voices at
several speeds and pitches, with known transcripts, split so that the validation strings
never occur in training (the model must spell words it heard in other combinations). The
set is deterministic for a seed and kept: a second call with the same settings reads it.
"""

import functools
import json
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from .data import DataError

DEMO_VERSION = 2
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
COMMANDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
# espeak-ng's own English voices (no mbrola) and its voice variants: male, female, other.
VOICES = ["en-us", "en-gb", "en-gb-scotland", "en-029", "en-gb-x-rp"]
VARIANTS = ["m1", "m3", "m5", "f1", "f2", "f4", "klatt"]


def read_audio(path, sample_rate: int) -> torch.Tensor:
    """The file's samples as a 1-D float tensor at sample_rate Hz (channels averaged)."""
    import soundfile

    try:
        samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, OSError, soundfile.LibsndfileError) as error:
        raise DataError(path, f"cannot read the audio ({error})",
                        hint="WAV, FLAC and OGG files are read; convert others first (ffmpeg -i IN -ar 16000 OUT.wav)") from None
    if samples.shape[0] == 0:
        raise DataError(path, "the audio file holds no samples")
    waveform = torch.from_numpy(samples.mean(axis=1))
    return _resampler(rate, sample_rate)(waveform) if rate != sample_rate else waveform


@functools.lru_cache(maxsize=8)
def _resampler(rate: int, sample_rate: int):
    """torchaudio's Resample for one pair of rates: its filter is computed once, not per file."""
    import torchaudio

    return torchaudio.transforms.Resample(rate, sample_rate)


def read_manifest(path, audio_field: str, text_field: str) -> list[tuple[int, str, str]]:
    """(line, audio path, transcript) for every row of a JSON Lines or CSV manifest; audio paths
    relative to the manifest's folder become paths from here."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(path, "no such file", hint=f"relative data paths start at the project root, {Path.cwd()}")
    rows = []
    if path.suffix.lower() == ".csv":
        from .data import check_columns, read_csv_table

        header, table = read_csv_table(path, required=[audio_field, text_field])
        index = check_columns(path, header, [audio_field, text_field])
        rows = [(line, fields[index[audio_field]], fields[index[text_field]]) for line, fields in table]
    else:
        with open(path, encoding="utf-8") as file:
            for number, text in enumerate(file, start=1):
                if not text.strip():
                    continue
                try:
                    record = json.loads(text)
                except json.JSONDecodeError as error:
                    raise DataError(path, f"not a JSON object: {error.msg}", row=number) from None
                missing = [name for name in (audio_field, text_field) if not isinstance(record.get(name), str)]
                if missing:
                    raise DataError(path, f"the line has no text field {missing[0]!r}", row=number,
                                    hint=f"each line: {{\"{audio_field}\": \"clips/a.wav\", \"{text_field}\": \"the words\"}}")
                rows.append((number, record[audio_field], record[text_field]))
    if not rows:
        raise DataError(path, "the manifest lists no utterances")
    base = path.parent
    return [(line, str(base / audio) if not Path(audio).is_absolute() else audio, text) for line, audio, text in rows]


def _demo_strings(seed: int) -> list[str]:
    """Every demo transcript, shuffled with the seed: digit strings of one to four digits and command pairs."""
    rng = np.random.default_rng(seed)
    strings = set(DIGITS)
    while len(strings) < 400:
        strings.add(" ".join(rng.choice(DIGITS, size=int(rng.integers(2, 5)))))
    strings.update(COMMANDS)
    strings.update(f"{a} {b}" for a in COMMANDS for b in COMMANDS if a != b)
    ordered = sorted(strings)
    rng.shuffle(ordered)
    return ordered


def build_demo(root, utterances: int, val_fraction: float, seed: int, workers: int = 4) -> dict:
    """root/train.jsonl and root/val.jsonl (manifests of root/wav/*.wav) and root/meta.json; returns the meta record."""
    root = Path(root)
    settings = {"version": DEMO_VERSION, "utterances": utterances, "val_fraction": val_fraction, "seed": seed}
    meta_path = root / "meta.json"
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        if meta.get("settings") == settings and (root / "train.jsonl").is_file() and (root / "val.jsonl").is_file():
            return meta
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SystemExit("the speech demo set is spoken by Debian's espeak-ng, which is not installed: "
                         "apt-get install espeak-ng (or use data.source: manifest or librispeech)")
    started = time.perf_counter()
    strings = _demo_strings(seed)
    rng = np.random.default_rng(seed + 1)
    # Every string once, in the shuffled order, then again at random until there are enough.
    texts = [strings[i] if i < len(strings) else str(rng.choice(strings)) for i in range(utterances)]
    spoken = list(dict.fromkeys(texts))
    held_out = set(spoken[:max(1, round(len(spoken) * val_fraction))])
    (root / "wav").mkdir(parents=True, exist_ok=True)
    jobs = []
    for i, text in enumerate(texts):
        voice = f"{rng.choice(VOICES)}+{rng.choice(VARIANTS)}"
        speed, pitch = int(rng.integers(130, 191)), int(rng.integers(25, 76))
        jobs.append({"audio": f"wav/{i:05d}.wav", "text": text, "voice": voice, "speed": speed, "pitch": pitch})

    def speak(job: dict) -> None:
        subprocess.run([espeak, "-v", job["voice"], "-s", str(job["speed"]), "-p", str(job["pitch"]),
                        "-w", str(root / job["audio"]), job["text"]], check=True, capture_output=True)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(speak, jobs))
    for name, keep in (("train", lambda job: job["text"] not in held_out), ("val", lambda job: job["text"] in held_out)):
        with open(root / f"{name}.jsonl", "w") as file:
            for job in filter(keep, jobs):
                file.write(json.dumps(job) + "\n")
    meta = {"settings": settings, "train": sum(job["text"] not in held_out for job in jobs),
            "val": sum(job["text"] in held_out for job in jobs), "held_out_strings": len(held_out),
            "seconds": round(time.perf_counter() - started, 2)}
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return meta
