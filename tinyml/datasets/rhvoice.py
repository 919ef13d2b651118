"""RHVoice through its C library (``libRHVoice.so.5``, Debian ``librhvoice5``).

One ``RHVoice-test`` process per word cost ~0.2 s, almost all of it start-up (loading the voice);
the library keeps its engines with their voices loaded, and a word then takes ~0.02 s.
The samples equal ``RHVoice-test``'s for the same voice, rate and pitch (``relative_rate`` and
``relative_pitch`` are what its ``-r``/``-t`` percentages set).

The structures mirror ``RHVoice.h`` (RHVoice 1.8, ABI 5). Synthesis threads take turns on one
engine: with an engine per thread, speaking from several threads at once gave, rarely, audio that
differed from ``RHVoice-test``'s (a word 199 samples shorter) or none at all — the library is not
safe to run concurrently. A word takes ~0.02 s, so the other engines' threads hardly wait.
"""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path

import numpy as np

from tinyml.errors import DatasetError, ToolMissingError

LIBRARY = "libRHVoice.so.5"
DATA_DIR = Path("/usr/share/RHVoice")
VOICE_DIR = DATA_DIR / "voices"
CONFIG_DIR = Path("/etc/RHVoice")
_MESSAGE_TEXT = 0

_SetSampleRate = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)
_PlaySpeech = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_uint, ctypes.c_void_p)


class _Callbacks(ctypes.Structure):
    _fields_ = [("set_sample_rate", _SetSampleRate), ("play_speech", _PlaySpeech),
                ("process_mark", ctypes.c_void_p), ("word_starts", ctypes.c_void_p),
                ("word_ends", ctypes.c_void_p), ("sentence_starts", ctypes.c_void_p),
                ("sentence_ends", ctypes.c_void_p), ("play_audio", ctypes.c_void_p), ("done", ctypes.c_void_p)]


class _InitParams(ctypes.Structure):
    _fields_ = [("data_path", ctypes.c_char_p), ("config_path", ctypes.c_char_p),
                ("resource_paths", ctypes.POINTER(ctypes.c_char_p)), ("callbacks", _Callbacks),
                ("options", ctypes.c_uint)]


class _SynthParams(ctypes.Structure):
    _fields_ = [("voice_profile", ctypes.c_char_p), ("absolute_rate", ctypes.c_double),
                ("absolute_pitch", ctypes.c_double), ("absolute_volume", ctypes.c_double),
                ("relative_rate", ctypes.c_double), ("relative_pitch", ctypes.c_double),
                ("relative_volume", ctypes.c_double), ("punctuation_mode", ctypes.c_int),
                ("punctuation_list", ctypes.c_char_p), ("capitals_mode", ctypes.c_int), ("flags", ctypes.c_int)]


_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_speaking = threading.Lock()  # one synthesis at a time, in the one engine
_engine: _Engine | None = None


def _library() -> ctypes.CDLL:
    global _lib
    with _lock:
        if _lib is None:
            try:
                lib = ctypes.CDLL(LIBRARY)
            except OSError as err:
                raise ToolMissingError(f"RHVoice's library {LIBRARY} is not installed; install it with "
                                       "`apt-get install librhvoice5 rhvoice-english` (Debian non-free; "
                                       "scripts/bootstrap.sh does) or leave rhvoice out of --engines") from err
            lib.RHVoice_new_tts_engine.restype = ctypes.c_void_p
            lib.RHVoice_new_tts_engine.argtypes = [ctypes.POINTER(_InitParams)]
            lib.RHVoice_new_message.restype = ctypes.c_void_p
            lib.RHVoice_new_message.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint, ctypes.c_int,
                                                ctypes.POINTER(_SynthParams), ctypes.c_void_p]
            lib.RHVoice_speak.argtypes = [ctypes.c_void_p]
            lib.RHVoice_delete_message.argtypes = [ctypes.c_void_p]
            _lib = lib
        return _lib


def available() -> bool:
    """The library loads (the voices are checked separately)."""
    try:
        _library()
    except ToolMissingError:
        return False
    return True


class _Engine:
    """The RHVoice engine; its callbacks collect the samples of the message being spoken."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self.lib = lib
        self.rate = 0
        self.chunks: list[np.ndarray] = []

        def set_sample_rate(rate: int, _user: object) -> int:
            self.rate = rate
            return 1

        def play_speech(samples: ctypes.Array, count: int, _user: object) -> int:
            self.chunks.append(np.ctypeslib.as_array(samples, (count,)).copy())
            return 1

        # Kept on the object: the C side holds these pointers for the engine's lifetime.
        self._callbacks = (_SetSampleRate(set_sample_rate), _PlaySpeech(play_speech))
        params = _InitParams(str(DATA_DIR).encode(), str(CONFIG_DIR).encode(), None,
                             _Callbacks(*self._callbacks, None, None, None, None, None, None, None), 0)
        self.handle = lib.RHVoice_new_tts_engine(ctypes.byref(params))
        if not self.handle:
            raise DatasetError(f"RHVoice could not start with its data in {DATA_DIR}; reinstall it with "
                               "`apt-get install --reinstall librhvoice5 rhvoice-english`")

    def speak(self, text: str, voice: str, rate: float, pitch: float) -> tuple[np.ndarray, int] | None:
        """The samples and their rate, None when the engine produced no audio."""
        self.chunks, self.rate = [], 0
        params = _SynthParams(voice.encode(), 0.0, 0.0, 0.0, rate, pitch, 1.0, 0, None, 0, 0)
        data = text.encode()
        message = self.lib.RHVoice_new_message(self.handle, data, len(data), _MESSAGE_TEXT,
                                               ctypes.byref(params), None)
        if not message:
            raise DatasetError(f"RHVoice refused '{text}' ({voice})")
        try:
            self.lib.RHVoice_speak(message)
        finally:
            self.lib.RHVoice_delete_message(message)
        if not self.chunks or not self.rate:
            return None
        return np.concatenate(self.chunks), self.rate


def speak(text: str, voice: str, rate: float = 1.0, pitch: float = 1.0) -> tuple[np.ndarray, int]:
    """int16 samples and their sample rate for ``text`` in ``voice``; ``rate`` and ``pitch`` are
    factors (``RHVoice-test -r/-t`` in percent). An engine that produced no audio (seen once in a
    long run, not reproducible) is replaced and the utterance tried once more on a fresh one."""
    global _engine
    with _speaking:
        if _engine is None:
            _engine = _Engine(_library())
        spoken = _engine.speak(text, voice, rate, pitch)
        if spoken is None:
            _engine = _Engine(_library())
            spoken = _engine.speak(text, voice, rate, pitch)
    if spoken is None:
        raise DatasetError(f"RHVoice produced no audio for '{text}' in voice {voice}; check that the voice "
                           f"is installed ({VOICE_DIR / voice}, `apt-get install rhvoice-english`)")
    return spoken
