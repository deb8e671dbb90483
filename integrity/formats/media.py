"""Parse audio and video containers completely enough to say they are usable (DA/T 70 x-3-4).

* WAV: the :mod:`wave` module reads the RIFF headers; every sample frame the ``data`` chunk
  declares must be present.
* MP3: skip an ID3v2 tag, then walk Layer III frame headers (ISO/IEC 11172-3 §2.4.2.3) from the
  first frame to the end of the file (an ID3v1 tag may close it); a broken chain or a cut last
  frame is damage.
* MP4: walk the top-level ISO BMFF boxes (ISO/IEC 14496-12 §4.2); they must tile the file, ``ftyp``
  and ``moov`` must be present; ``moov/mvhd`` gives the creation time and duration.

Decoding the audio/video samples themselves is left to a media tool; this module checks structure.
"""

from __future__ import annotations

import datetime as dt
import mmap
import struct
import wave
from pathlib import Path
from typing import BinaryIO

from integrity.formats.identify import id3v2_size, parse_mp3_header
from integrity.formats.result import ParseResult, failed

_CHUNK_FRAMES = 65536
_MP3_SYNC_SEARCH = 4096  # bytes after the ID3v2 tag in which the first frame must start
_MP4_EPOCH = dt.datetime(1904, 1, 1, tzinfo=dt.UTC)  # ISO/IEC 14496-12 §8.2.2.3


def parse_wav(path: Path) -> ParseResult:
    """Read the WAV headers and every declared sample frame.

    Raises:
        OSError: the file cannot be opened.
    """
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, rate, frames = (
                w.getnchannels(),
                w.getsampwidth(),
                w.getframerate(),
                w.getnframes(),
            )
            read = 0
            while True:
                chunk = w.readframes(_CHUNK_FRAMES)
                if not chunk:
                    break
                read += len(chunk)
    except (wave.Error, EOFError, struct.error) as exc:
        return failed("WAV", "wav_invalid", f"WAV 头无法解析：{exc}")
    expected = frames * channels * width
    details = {"channels": str(channels), "sample_width": str(width), "sample_rate": str(rate)}
    if read != expected:
        return failed(
            "WAV",
            "wav_truncated",
            f"data 块声明 {expected} 字节音频数据，实际只有 {read} 字节",
            details=details,
        )
    details["duration_s"] = f"{frames / rate:.3f}" if rate else "0"
    return ParseResult(ok=True, format="WAV", details=details)


def walk_mp3(data: bytes | mmap.mmap) -> ParseResult:
    """Walk the MP3 frame chain of ``data`` (pure over the bytes)."""
    end = len(data)
    start = id3v2_size(bytes(data[:10])) or 0
    offset = start
    limit = min(end, start + _MP3_SYNC_SEARCH)
    while offset + 4 <= limit and parse_mp3_header(bytes(data[offset : offset + 4])) is None:
        offset += 1
    if offset + 4 > limit:
        return failed(
            "MP3", "mp3_no_frame", f"偏移 {start} 起 {_MP3_SYNC_SEARCH} 字节内没有有效的 Layer III 帧头"
        )
    frames = 0
    samples = 0
    rate = 0
    while offset < end:
        if data[offset : offset + 3] == b"TAG" and end - offset == 128:
            break  # ID3v1 tag closes the file
        frame = parse_mp3_header(bytes(data[offset : offset + 4]))
        if frame is None:
            return failed("MP3", "mp3_frame_invalid", f"第 {frames + 1} 帧（偏移 {offset}）不是有效的帧头")
        if offset + frame.length > end:
            return failed(
                "MP3",
                "mp3_truncated",
                f"第 {frames + 1} 帧需要 {frame.length} 字节，文件只剩 {end - offset} 字节",
            )
        frames += 1
        samples += frame.samples
        rate = frame.sample_rate
        offset += frame.length
    details = {"frames": str(frames), "sample_rate": str(rate), "duration_s": f"{samples / rate:.3f}"}
    return ParseResult(ok=True, format="MP3", details=details)


def parse_mp3(path: Path) -> ParseResult:
    """Walk every frame of the MP3 file at ``path`` (memory-mapped, read-only).

    Raises:
        OSError: the file cannot be opened or mapped.
    """
    with path.open("rb") as fh:
        if path.stat().st_size == 0:
            return failed("MP3", "mp3_no_frame", "文件为空")
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return walk_mp3(data)


def _box_header(fh: BinaryIO, offset: int, end: int) -> tuple[str, int, int] | str:
    """(type, header length, box size) of the box at ``offset``, or a Chinese error."""
    fh.seek(offset)
    head = fh.read(8)
    if len(head) < 8:
        return f"偏移 {offset} 处盒子头不完整"
    size, kind = struct.unpack(">I4s", head)
    name = kind.decode("latin-1")
    header = 8
    if size == 1:
        large = fh.read(8)
        if len(large) < 8:
            return f"盒子 {name} 的 64 位长度不完整"
        (size,) = struct.unpack(">Q", large)
        header = 16
    elif size == 0:
        size = end - offset  # extends to the end of the enclosing space
    if size < header or offset + size > end:
        return f"盒子 {name}（偏移 {offset}）长度 {size} 超出范围 {end - offset}"
    return name, header, size


def _walk_boxes(fh: BinaryIO, start: int, end: int) -> list[tuple[str, int, int, int]] | str:
    """Boxes tiling ``[start, end)``: (type, offset, header length, size), or a Chinese error."""
    boxes: list[tuple[str, int, int, int]] = []
    offset = start
    while offset < end:
        got = _box_header(fh, offset, end)
        if isinstance(got, str):
            return got
        name, header, size = got
        boxes.append((name, offset, header, size))
        offset += size
    return boxes


def _mvhd(fh: BinaryIO, offset: int, header: int, size: int) -> tuple[str | None, str | None]:
    """(creation time ISO, duration seconds) from an ``mvhd`` box (ISO/IEC 14496-12 §8.2.2)."""
    fh.seek(offset + header)
    body = fh.read(min(size - header, 40))
    if len(body) < 20:
        return None, None
    if body[0] == 1 and len(body) >= 32:
        created, _modified, timescale, duration = struct.unpack(">QQIQ", body[4:32])
    else:
        created, _modified, timescale, duration = struct.unpack(">IIII", body[4:20])
    when = (_MP4_EPOCH + dt.timedelta(seconds=created)).isoformat() if created else None
    length = f"{duration / timescale:.3f}" if timescale else None
    return when, length


def parse_mp4(path: Path) -> ParseResult:
    """Walk the top-level boxes of an MP4 and read ``moov/mvhd``.

    Raises:
        OSError: the file cannot be opened or read.
    """
    end = path.stat().st_size
    with path.open("rb") as fh:
        boxes = _walk_boxes(fh, 0, end)
        if isinstance(boxes, str):
            return failed("MP4", "mp4_box_invalid", f"MP4 盒子结构错误：{boxes}")
        kinds = [b[0] for b in boxes]
        details = {"boxes": " ".join(kinds)}
        if "ftyp" not in kinds:
            return failed("MP4", "mp4_no_ftyp", "没有 ftyp 盒子", details=details)
        moov = next((b for b in boxes if b[0] == "moov"), None)
        if moov is None:
            return failed("MP4", "mp4_no_moov", "没有 moov 盒子（缺少影片元数据，无法播放）", details=details)
        _, m_off, m_head, m_size = moov
        children = _walk_boxes(fh, m_off + m_head, m_off + m_size)
        if isinstance(children, str):
            return failed("MP4", "mp4_box_invalid", f"moov 内部盒子结构错误：{children}", details=details)
        created = None
        mvhd = next((c for c in children if c[0] == "mvhd"), None)
        if mvhd is not None:
            created, duration = _mvhd(fh, mvhd[1], mvhd[2], mvhd[3])
            if duration is not None:
                details["duration_s"] = duration
    return ParseResult(ok=True, format="MP4", created=created, details=details)
