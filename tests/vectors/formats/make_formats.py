"""Write the format-identification vectors: small real files sorted into valid/ and invalid/.

Run ``.venv/bin/python tests/vectors/formats/make_formats.py`` from the project root. Output is
deterministic (reportlab ``invariant=1``, fixed ZIP timestamps, RC4 PDF encryption with a
static /ID) for a given reportlab/pikepdf/Pillow version. ``expected.json`` beside this file
records, per vector, the format identified by content, the MIME type and the parse outcome (``ok``,
``pages``, ``encrypted``, ``created``, failure ``code``); it is written by hand, not by this script.
"""

from __future__ import annotations

import datetime as dt
import io
import struct
import wave
import zipfile
from pathlib import Path

import pikepdf
from PIL import Image, PngImagePlugin
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

HERE = Path(__file__).resolve().parent
OFD_NS = "http://www.ofdspec.org/2016"
STAMP = (2024, 3, 5, 9, 30, 0)


def pdf_pages(pages: int) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    for n in range(pages):
        c.drawString(72, 720, f"edossier format vector page {n + 1}")
        c.showPage()
    c.save()
    return buf.getvalue()


def encrypted_pdf(user: str) -> bytes:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf_pages(1))) as pdf:
        enc = pikepdf.Encryption(owner="owner-secret", user=user, R=3, aes=False, metadata=False)
        pdf.save(out, encryption=enc, static_id=True)  # fixed /ID so RC4 output is reproducible
    return out.getvalue()


def gray_image(size: tuple[int, int] = (64, 48)) -> Image.Image:
    img = Image.new("L", size)
    img.putdata([(x * 4 + y * 2) % 256 for y in range(size[1]) for x in range(size[0])])
    return img


def jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2024:03:05 09:30:00"  # DateTimeOriginal
    buf = io.BytesIO()
    gray_image((256, 192)).convert("RGB").save(buf, "JPEG", quality=90, exif=exif)
    return buf.getvalue()


def png() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Creation Time", "Tue, 05 Mar 2024 09:30:00 +0800")
    buf = io.BytesIO()
    gray_image().save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def tiff_two_pages() -> bytes:
    buf = io.BytesIO()
    first, second = gray_image(), gray_image().rotate(180)
    first.save(buf, "TIFF", save_all=True, append_images=[second], tiffinfo={306: "2024:03:05 09:30:00"})
    return buf.getvalue()


def zip_bytes(entries: list[tuple[str, bytes, int]], *, encrypt: frozenset[str] = frozenset()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data, method in entries:
            info = zipfile.ZipInfo(name, date_time=STAMP)
            info.compress_type = method
            zf.writestr(info, data)
    raw = bytearray(buf.getvalue())
    for name in encrypt:  # set general-purpose bit 0 in the local and central headers
        encoded = name.encode()
        for sig, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            at = 0
            while (at := raw.find(sig, at)) >= 0:
                name_at = 30 if sig == b"PK\x03\x04" else 46
                if raw[at + name_at : at + name_at + len(encoded)] == encoded:
                    raw[at + flag_at] |= 0x01
                at += 4
    return bytes(raw)


def ofd_entries(pages: int, *, missing_page: bool = False) -> list[tuple[str, bytes]]:
    main = f"""<?xml version="1.0" encoding="UTF-8"?>
<ofd:OFD xmlns:ofd="{OFD_NS}" Version="1.0" DocType="OFD">
  <ofd:DocBody>
    <ofd:DocInfo>
      <ofd:DocID>6a3f0c1e9d2b4c5a8e7f1d2c3b4a5968</ofd:DocID>
      <ofd:Title>edossier format vector</ofd:Title>
      <ofd:CreationDate>2024-03-05</ofd:CreationDate>
    </ofd:DocInfo>
    <ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>
  </ofd:DocBody>
</ofd:OFD>
"""
    page_refs = "".join(
        f'<ofd:Page ID="{n + 1}" BaseLoc="Pages/Page_{n}/Content.xml"/>' for n in range(pages)
    )
    document = f"""<?xml version="1.0" encoding="UTF-8"?>
<ofd:Document xmlns:ofd="{OFD_NS}">
  <ofd:CommonData>
    <ofd:MaxUnitID>{pages * 2}</ofd:MaxUnitID>
    <ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>
  </ofd:CommonData>
  <ofd:Pages>{page_refs}</ofd:Pages>
</ofd:Document>
"""
    out = [("OFD.xml", main.encode()), ("Doc_0/Document.xml", document.encode())]
    for n in range(pages - (1 if missing_page else 0)):
        content = f"""<?xml version="1.0" encoding="UTF-8"?>
<ofd:Page xmlns:ofd="{OFD_NS}"><ofd:Content><ofd:Layer ID="{pages + n + 1}"/></ofd:Content></ofd:Page>
"""
        out.append((f"Doc_0/Pages/Page_{n}/Content.xml", content.encode()))
    return out


def ofd(
    method: int = zipfile.ZIP_DEFLATED, *, encrypt: frozenset[str] = frozenset(), missing_page: bool = False
) -> bytes:
    entries = [(n, d, method) for n, d in ofd_entries(2, missing_page=missing_page)]
    return zip_bytes(entries, encrypt=encrypt)


def wav(frames: int = 800) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", (i * 97) % 2000 - 1000) for i in range(frames)))
    return buf.getvalue()


def mp3(frames: int = 3) -> bytes:
    header = bytes([0xFF, 0xFB, 0x90, 0x00])  # MPEG-1 Layer III, no CRC, 128 kbit/s, 44.1 kHz
    frame = header + bytes(417 - 4)  # 144 * 128000 / 44100 = 417 bytes, no padding
    id3 = b"ID3\x03\x00\x00\x00\x00\x00\x00"  # empty ID3v2.3 tag
    return id3 + frame * frames


def box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def mp4(*, with_moov: bool = True) -> bytes:
    ftyp = box(b"ftyp", b"isom" + struct.pack(">I", 0x200) + b"isommp41")
    created = int(
        (dt.datetime(2024, 3, 1, tzinfo=dt.UTC) - dt.datetime(1904, 1, 1, tzinfo=dt.UTC)).total_seconds()
    )
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd_body = (
        b"\x00\x00\x00\x00"
        + struct.pack(">IIII", created, created, 1000, 2500)  # timescale 1000, duration 2.5 s
        + struct.pack(">IH", 0x10000, 0x100)
        + bytes(10)
        + matrix
        + bytes(24)
        + struct.pack(">I", 1)
    )
    moov = box(b"moov", box(b"mvhd", mvhd_body))
    return ftyp + (moov if with_moov else b"") + box(b"mdat", b"")


def vectors() -> dict[str, bytes]:
    two = pdf_pages(2)
    jpeg = jpeg_with_exif()
    plain_zip = zip_bytes([("readme.txt", b"not an OFD\n", zipfile.ZIP_DEFLATED)])
    record = '<?xml version="1.0" encoding="UTF-8"?>\n<记录><题名>庭审笔录</题名></记录>\n'.encode()
    return {
        "valid/two_pages.pdf": two,
        "valid/photo_exif.jpg": jpeg,
        "valid/scan.png": png(),
        "valid/two_pages.tif": tiff_two_pages(),
        "valid/minimal.ofd": ofd(),
        "valid/hearing.wav": wav(),
        "valid/minimal.mp3": mp3(),
        "valid/minimal.mp4": mp4(),
        "valid/record.xml": record,
        "invalid/user_password.pdf": encrypted_pdf("user-secret"),
        "invalid/owner_password_only.pdf": encrypted_pdf(""),
        "invalid/truncated.pdf": two[: len(two) // 2],
        "invalid/truncated.jpg": jpeg[: len(jpeg) // 2],
        "invalid/text_renamed.pdf": "这是一个纯文本文件，只是改了扩展名。\n".encode(),
        "invalid/plain.zip": plain_zip,
        "invalid/ofd_encrypted_entry.ofd": ofd(encrypt=frozenset({"Doc_0/Pages/Page_1/Content.xml"})),
        "invalid/ofd_lzma.ofd": ofd(zipfile.ZIP_LZMA),
        "invalid/ofd_missing_page.ofd": ofd(missing_page=True),
        "invalid/truncated.wav": wav()[:-600],
        "invalid/truncated.mp3": mp3()[:-100],
        "invalid/no_moov.mp4": mp4(with_moov=False),
    }


def main() -> None:
    for rel, data in vectors().items():
        target = HERE / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


if __name__ == "__main__":
    main()
