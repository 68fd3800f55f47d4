"""Rebuild sample_data's speech clip, talk video and slide deck with open tools.

    apt-get install espeak-ng && .venv/bin/pip install python-pptx
    .venv/bin/python scripts/make_samples.py

- gettysburg-address.mp3: espeak-ng reading the opening of Lincoln's Gettysburg Address
  (1863, public domain), encoded as MP3 by PyAV's FFmpeg (libmp3lame).
- phylogeny-talk.mp4: three slides of sample_data/beamer-slides.pdf (the beamer example
  talk, LPPL/GPL) shown in turn while espeak-ng reads what each slide says; H.264 + AAC.
- phylogeny-talk.pptx: the same talk's first slides as a PowerPoint deck written by
  python-pptx from the PDF's text layer (titles and bullets), with the narration above
  as speaker notes.
"""

import subprocess
import tempfile
import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pymupdf
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "sample_data"
RATE = 22_050  # espeak-ng's output rate
GETTYSBURG = (
    "Four score and seven years ago our fathers brought forth on this continent, a new"
    " nation, conceived in Liberty, and dedicated to the proposition that all men are"
    " created equal. Now we are engaged in a great civil war, testing whether that nation,"
    " or any nation so conceived and so dedicated, can long endure."
)
SLIDES = {  # 0-based page of beamer-slides.pdf -> narration
    0: "On the complexity of SNP block partitioning under the perfect phylogeny model.",
    2: "What is haplotyping and why is it important? Every person has two haplotypes,"
    " one from each parent, and genotypes only tell us their combination.",
    5: "We can do perfect phylogeny haplotyping efficiently, but data may be missing,"
    " and that makes the problem hard.",
}


def speak(text: str) -> np.ndarray:
    """espeak-ng's voice for `text` as int16 mono samples at 22.05 kHz."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        subprocess.run(["espeak-ng", "-s", "150", "-w", tmp.name, text], check=True)
        with wave.open(tmp.name) as w:
            return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)


def write_audio(stream: av.audio.stream.AudioStream, container, samples: np.ndarray) -> None:
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = RATE
    frame.pts = None
    for packet in stream.encode(frame):
        container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)


def make_clip() -> None:
    with av.open(str(OUT / "gettysburg-address.mp3"), "w") as out:
        stream = out.add_stream("libmp3lame", rate=RATE, layout="mono")
        stream.bit_rate = 32_000
        write_audio(stream, out, speak(GETTYSBURG))


def make_video() -> None:
    pdf = pymupdf.open(ROOT / "sample_data" / "beamer-slides.pdf")
    voices = {page: speak(text) for page, text in SLIDES.items()}
    fps = 5
    with av.open(str(OUT / "phylogeny-talk.mp4"), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = 640, 480, "yuv420p"
        video.options = {"crf": "30", "preset": "veryslow"}
        audio = out.add_stream("aac", rate=RATE, layout="mono")
        audio.bit_rate = 32_000
        frame_no = 0
        for page, voice in voices.items():
            pix = pdf[page].get_pixmap(dpi=100)
            slide = Image.frombytes("RGB", (pix.width, pix.height), pix.samples).resize((640, 480))
            for _ in range(int(np.ceil((len(voice) / RATE + 1.0) * fps))):
                frame = av.VideoFrame.from_image(slide)
                frame.pts, frame.time_base = frame_no, Fraction(1, fps)
                frame_no += 1
                for packet in video.encode(frame):
                    out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        pause = np.zeros(RATE, dtype=np.int16)  # the second each slide stays after its words
        write_audio(
            audio, out, np.concatenate([np.concatenate([v, pause]) for v in voices.values()])
        )


NAVIGATION = 4  # the beamer theme's section links open every slide's text


def make_deck() -> None:
    from pptx import Presentation

    pdf = pymupdf.open(ROOT / "sample_data" / "beamer-slides.pdf")
    deck = Presentation()
    for page in (0, 2, 3, 5):
        lines = [x.strip() for x in pdf[page].get_text().splitlines() if x.strip()]
        content = lines[NAVIGATION:]
        if page > 0:
            content = content[1:]  # the section name above the slide title
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = content[0]
        slide.placeholders[1].text = "\n".join(content[1:12])
        if page in SLIDES:
            slide.notes_slide.notes_text_frame.text = SLIDES[page]
    deck.save(OUT / "phylogeny-talk.pptx")


if __name__ == "__main__":
    make_clip()
    make_video()
    make_deck()
    for name in ("gettysburg-address.mp3", "phylogeny-talk.mp4", "phylogeny-talk.pptx"):
        print(name, (OUT / name).stat().st_size, "bytes")
