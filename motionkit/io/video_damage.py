"""Which frames of a decoded video are damaged, read from ffmpeg's own log.

The decoder conceals a damaged frame (it fills the lost blocks from neighbours) and carries on,
so the pixels alone do not say which frames are wrong. ffmpeg says so on stderr: with
``-debug_ts`` it logs every packet it demuxes (decode order, with its pts) and every frame the
decoder returns (presentation order, with its pts and key-frame flag), and it logs "corrupt
decoded frame" just before the line of the frame the decoder flagged. :class:`DecodeLog` reads
those lines as they come (from a thread draining stderr) and :meth:`DecodeLog.damage` turns
them into frame ranges: a flagged frame and every frame decoded after it up to the next key
frame (those predict from it, B-frames shown before it included).
"""

from __future__ import annotations

import bisect
import re
import threading
from dataclasses import dataclass

from motionkit.errors import MotionkitWarning

_PTS = re.compile(r"\bpts:(-?\d+|NOPTS)")
_PKT_PTS = re.compile(r"\bpkt_pts:(-?\d+|NOPTS)")
_KEY = re.compile(r"\bkeyframe:(\d)")
_OUT_SIZE = re.compile(r"Video: rawvideo.*?, (\d{1,5})x(\d{1,5})\b")
_LEVEL = re.compile(r"\[(error|fatal|panic)\]\s*(.*)")
_PREFIX = re.compile(r"^(\[[^\]]*\]\s*)+")


class DamagedVideoWarning(MotionkitWarning):
    """A video was read although the decoder reported damaged or missing frames (``allow_damaged=True``).

    A :class:`~motionkit.errors.MotionkitWarning`: the command line prints it once as ``motionkit: warning: ...``.
    """


@dataclass(frozen=True)
class Damage:
    """What went wrong while decoding, in stored frame indices (0 = the video's first frame).

    Attributes:
        ranges: inclusive ``(first, last)`` ranges of frames the decoder flagged or that
            predict from a flagged one (decoded, but with concealed blocks).
        lost: inclusive ranges of stored frames the decoder gave no picture for.
        lost_count: how many frames were lost (also when their positions are unknown).
        messages: the decoder's first distinct error lines (for the message).
    """

    ranges: tuple[tuple[int, int], ...]
    lost: tuple[tuple[int, int], ...]
    lost_count: int
    messages: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.ranges or self.lost_count)

    def describe(self) -> str:
        """``"frames 30-49 are damaged (...)"``: one sentence for an error or warning."""
        parts = []
        if self.ranges:
            parts.append(f"{_spans(self.ranges)} {'is' if _single(self.ranges) else 'are'} damaged")
        if self.lost:
            parts.append(f"{_spans(self.lost)} could not be decoded at all")
        elif self.lost_count:
            parts.append(f"{self.lost_count} stored frame{'s' if self.lost_count > 1 else ''} could not be decoded at all")
        said = f" (the decoder said: {'; '.join(self.messages)})" if self.messages else ""
        return " and ".join(parts) + said


def _single(ranges: tuple[tuple[int, int], ...]) -> bool:
    return len(ranges) == 1 and ranges[0][0] == ranges[0][1]


def _spans(ranges: tuple[tuple[int, int], ...]) -> str:
    text = ", ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in ranges)
    return f"frame {text}" if _single(ranges) else f"frames {text}"


class DecodeLog:
    """ffmpeg's stderr, parsed line by line (:meth:`feed`, from a reader thread) into what
    :meth:`damage` needs. Thread-safe; memory is a few integers per frame."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.packets: list[int | None] = []  # pts in decode order
        self.frames: list[int | None] = []  # pts in presentation (output) order
        self.keys: set[int] = set()  # output indices of key frames
        self.flagged: list[int] = []  # output indices the decoder flagged corrupt
        self.errors: list[tuple[int, str]] = []  # (frames output when logged, error-level line)
        self.output_size: tuple[int, int] | None = None  # (H, W) ffmpeg will write
        self.tail: list[str] = []  # the last other lines, for an error message
        self.ended = False
        self._flag_next = False
        self._sorted: list[int] | None = None

    def feed(self, line: str) -> None:
        """Take one stderr line (``-loglevel level+info -debug_ts``)."""
        with self._cond:
            if "] decoder -> " in line:
                pts = _PTS.search(line)
                key = _KEY.search(line)
                index = len(self.frames)
                self.frames.append(_int(pts.group(1)) if pts else None)
                if key and key.group(1) == "1":
                    self.keys.add(index)
                if self._flag_next:
                    self.flagged.append(index)
                    self._flag_next = False
                self._cond.notify_all()
                return
            if "] demuxer -> " in line:
                if "type:video" in line:
                    pts = _PKT_PTS.search(line)
                    self.packets.append(_int(pts.group(1)) if pts else None)
                    self._sorted = None
                return
            if "corrupt decoded frame" in line:
                self._flag_next = True
                return
            self.tail = (self.tail + [line])[-20:]
            if self.output_size is None:
                size = _OUT_SIZE.search(line)
                if size:
                    self.output_size = (int(size.group(2)), int(size.group(1)))
                    self._cond.notify_all()
            level = _LEVEL.search(line)
            if level and len(self.errors) < 1000:
                self.errors.append((len(self.frames), _PREFIX.sub("", level.group(2)).strip()))

    def end(self) -> None:
        """ffmpeg's stderr is closed: wake every waiter."""
        with self._cond:
            self.ended = True
            self._cond.notify_all()

    def wait_size(self, timeout: float) -> tuple[int, int] | None:
        """The output frame size, once ffmpeg has said it (``None`` if it ended first)."""
        with self._cond:
            self._cond.wait_for(lambda: self.output_size is not None or self.ended, timeout)
            return self.output_size

    def stored_index(self, output: int, timeout: float = 60.0) -> int | None:
        """Where output frame ``output`` sits among the stored frames (its pts' rank among the
        packets demuxed), waiting for its log line; ``None`` without timestamps."""
        with self._cond:
            self._cond.wait_for(lambda: len(self.frames) > output or self.ended, timeout)
            if output >= len(self.frames) or self.frames[output] is None:
                return None
            return bisect.bisect_left(self._packet_order(), self.frames[output])

    def _packet_order(self) -> list[int]:
        if self._sorted is None:
            self._sorted = sorted(p for p in self.packets if p is not None)
        return self._sorted

    def damage(self, expected: int | None = None) -> Damage:
        """The damage known so far; ``expected`` (the frames probed), once ffmpeg has ended,
        also counts and places the frames it never returned."""
        with self._cond:
            order = self._packet_order()
            timed = len(order) == len(self.packets) and None not in self.frames

            def stored(i: int) -> int:
                return bisect.bisect_left(order, self.frames[i]) if timed else i

            damaged = {stored(i) for flagged in self.flagged for i in self._dependants(flagged)}
            lost: list[int] = []
            lost_count = 0
            shown = set(self.frames)
            if timed and self.frames:
                # Output comes in pts order: a packet before the newest frame shown that never
                # came out is lost (before the end, later ones may still come).
                newest = max(self.frames) if expected is None else None
                lost = [i for i, pts in enumerate(order) if pts not in shown and (newest is None or pts < newest)]
            if expected is not None:
                lost_count = max(0, expected - len(self.frames), len(lost))
            else:
                lost_count = len(lost)
            if lost:
                # Frames predicted from a lost one are decoded from a guess: damaged too.
                for pts in {order[i] for i in lost}:
                    damaged.update(stored(i) for i in self._after(pts))
            if not damaged and not lost_count and self.errors and expected is not None:
                # Errors that flagged no frame and lost none (decoders that do not flag, e.g.
                # GIF's): the frame being decoded is at or after the count output so far; its
                # damage can reach the next key frame. Named conservatively, never dropped.
                for start in sorted({count for count, _ in self.errors}):
                    start = min(start, len(self.frames) - 1)
                    nxt = min((k for k in self.keys if k > start), default=len(self.frames))
                    damaged.update(stored(i) for i in range(max(start, 0), max(nxt, start + 1)))
            messages: list[str] = []
            for _, text in self.errors:
                if text not in messages and len(messages) < 3:
                    messages.append(text)
            bad = damaged or lost_count
            return Damage(_ranges(sorted(damaged)), _ranges(lost), lost_count, tuple(messages) if bad else ())

    def closed(self) -> bool:
        """True when every flagged frame's damage has ended at a later key frame (the ranges are final)."""
        with self._cond:
            last = max(self.flagged, default=None)
            return last is None or any(k > last for k in self.keys)

    def _dependants(self, flagged: int) -> set[int]:
        """Output index ``flagged`` and those of the frames decoded after it until the next key frame."""
        pts = self.frames[flagged]
        if pts is None or pts not in self.packets:  # no timestamps: presentation order only
            nxt = min((k for k in self.keys if k > flagged), default=len(self.frames))
            return set(range(flagged, nxt))
        return {flagged} | self._after(pts)

    def _after(self, pts: int) -> set[int]:
        """Output indices of the frames decoded after packet ``pts``, up to the next key frame."""
        index_of = {p: i for i, p in enumerate(self.frames) if p is not None}
        out = set()
        for later in self.packets[self.packets.index(pts) + 1:]:
            index = index_of.get(later)
            if index is None:
                continue
            if index in self.keys:
                break
            out.add(index)
        return out


def _int(text: str) -> int | None:
    return None if text == "NOPTS" else int(text)


def _ranges(indices: list[int]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for i in indices:
        if out and i == out[-1][1] + 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return tuple(out)
