"""``motionkit translate``: edits of frame 0 or of a few keyframes carried through a video (``mk.translate``)."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import typer

import motionkit as mk
from motionkit.cli.commands.motion import AllowDamagedOption
from motionkit.cli.options import (
    EstimatorOption,
    ModelOption,
    OutOption,
    PromptOption,
    RendererOption,
    SeedOption,
    StepsOption,
    learned_options,
    route,
    say,
)
from motionkit.errors import InvalidInputError

EXAMPLE = (
    "Example: motionkit translate walk.mp4 walk_frame0_painted.png -o walk_painted.mp4\n\n"
    "Keyframes: motionkit translate walk.mp4 --keyframe 0:walk_0.png --keyframe 60:walk_60.png -o walk_painted.mp4"
)


def parse_keyframe(text: str) -> tuple[int, Path]:
    """``"FRAME:PATH"`` (0-based frame index) -> ``(frame, path)``."""
    frame, sep, path = text.partition(":")
    if not sep or not path or not frame.strip().isdigit():
        raise InvalidInputError(f"--keyframe takes FRAME:PATH with a 0-based frame number, e.g. 60:frame60_painted.png; got {text!r}")
    return int(frame), Path(path)


def keyframes(edited_first_frame: Path | None, given: list[str]) -> dict[int, Path]:
    """The keyframes of the command line: the positional edited frame 0 and every ``--keyframe``."""
    keys: dict[int, Path] = {}
    if edited_first_frame is not None:
        keys[0] = edited_first_frame
    for text in given:
        frame, path = parse_keyframe(text)
        if frame in keys:
            raise InvalidInputError(f"frame {frame} is given twice (the positional edited frame is frame 0); give each keyframe once")
        keys[frame] = path
    if not keys:
        raise InvalidInputError("give the edited frame 0 (positional) or at least one --keyframe FRAME:PATH")
    return keys


def translate(
    video: Path = typer.Argument(..., help="The source video."),
    edited_first_frame: Path | None = typer.Argument(
        None, help="Frame 0 of the video, edited in any tool (same size); may be left out when --keyframe 0:... is given."
    ),
    output: Path = OutOption,
    keyframe: list[str] = typer.Option(
        [], "--keyframe", help="FRAME:PATH, an edited frame (0-based index) to carry forwards and backwards; repeat for several."
    ),
    carry_across_cuts: bool = typer.Option(
        False, "--carry-across-cuts", help="Keep carrying an edit across scene cuts (default: a shot with no keyframe gets only the colour grade)."
    ),
    estimator: str = EstimatorOption,
    renderer: str = RendererOption,
    model: Path | None = ModelOption,
    prompt: str | None = PromptOption,
    seed: int | None = SeedOption,
    steps: int | None = StepsOption,
    allow_damaged: bool = AllowDamagedOption,
    manifest: Path | None = typer.Option(None, "--manifest", help="Also write a run manifest (JSON) to check or `motionkit rerun` this translation."),
) -> None:
    """Carry an edit of a video's first frame (or of a few keyframes) through the whole video, along the video's motion."""
    started = time.perf_counter()
    options = route(learned_options(model, seed, steps, prompt), renderer=renderer)["renderer"]
    source = mk.Clip.read(video, allow_damaged=True) if allow_damaged else video
    keys = keyframes(edited_first_frame, keyframe)
    edits = keys[0] if list(keys) == [0] else keys
    clip = mk.translate(source, edits, estimator=estimator, renderer=renderer, renderer_options=options,
                        scene_cuts="carry" if carry_across_cuts else "stop")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", mk.SceneCutWarning)
        clip.write(output, progress=True)
    for warning in caught:
        if isinstance(warning.message, mk.SceneCutWarning):
            cut = warning.message
            say(f"scene cuts at frames {', '.join(map(str, cut.cuts))}: no keyframe in the shot(s) from frame(s) "
                f"{', '.join(map(str, cut.uncovered))}, which get only the colour grade (--carry-across-cuts to carry the edit)")
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    say(f"wrote {output} ({len(clip)} frames, {len(keys)} keyframe(s), {time.perf_counter() - started:.1f} s)")
    if manifest is not None:
        mk.RunManifest.record(command="translate", video=video, keyframes=keys, output=output, backend="classical",
                              estimator=estimator, renderer=renderer, carry_across_cuts=carry_across_cuts,
                              allow_damaged=allow_damaged, prompt=prompt, seed=seed, steps=steps,
                              weights=model).save(manifest)
        say(f"wrote {manifest}")


def register(app: typer.Typer) -> None:
    """Add ``translate`` to ``app``."""
    app.command(epilog=EXAMPLE)(translate)
