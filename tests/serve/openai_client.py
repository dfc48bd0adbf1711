"""The official OpenAI Python client against `parla serve`, unmodified.

Usage: python3 openai_client.py BASE_URL OUT_DIR   (BASE_URL like http://127.0.0.1:8080/v1)
"""
import sys
import wave
from pathlib import Path

from openai import OpenAI

base_url, out = sys.argv[1], Path(sys.argv[2])
client = OpenAI(base_url=base_url, api_key="not-needed")

# Whole file.
speech = client.audio.speech.create(model="tts-1", voice="alloy", input="Hello from the OpenAI client.", response_format="wav")
path = out / "openai.wav"
speech.write_to_file(path)
with wave.open(str(path)) as w:
    assert w.getframerate() == 22050 and w.getnchannels() == 1 and w.getsampwidth() == 2
    frames = w.readframes(w.getnframes())
assert len(frames) > 2 * 22050 // 2, len(frames)

# mp3, the format OpenAI's clients and many integrations ask for by name.
speech = client.audio.speech.create(model="tts-1", voice="alloy", input="And now in mp3.", response_format="mp3")
mp3 = speech.content
assert mp3[:2] == b"\xff\xf3" and len(mp3) > 8000 * 0.8, (mp3[:4], len(mp3))

# Streamed.
chunks = 0
size = 0
with client.audio.speech.with_streaming_response.create(
    model="tts-1", voice="joe", input="Streaming, piece by piece, as it is made.", response_format="pcm"
) as response:
    assert response.headers["x-sample-rate"] == "22050"
    for chunk in response.iter_bytes(chunk_size=4096):
        chunks += 1
        size += len(chunk)
assert size > 22050 and chunks > 1, (size, chunks)

# Errors surface as the client's exceptions.
try:
    client.audio.speech.create(model="tts-1", voice="nobody", input="x")
    raise SystemExit("an unknown voice must fail")
except Exception as e:  # openai.BadRequestError
    assert getattr(e, "status_code", None) == 400, e
print(f"openai client ok: {len(frames)} wav bytes, {len(mp3)} mp3 bytes, {size} pcm bytes in {chunks} chunks")
