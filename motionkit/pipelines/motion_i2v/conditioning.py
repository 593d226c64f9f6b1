"""What both stages share: prompt encoding, VAE calls, working resolution, module placement.

Images enter stage 1 in [0, 1] (the official demo feeds ``ToTensor`` output to the SD VAE)
and stage 2 in [-1, 1]; both encode with ``latent_dist.sample()`` and scale by 0.18215.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F

from motionkit.errors import InvalidInputError, ShapeMismatchError
from motionkit.ops.field import all_finite

#: The negative prompt hard-coded in the official demo (``scripts/app.py``).
OFFICIAL_NEGATIVE_PROMPT = (
    "(blur, haze, deformed iris, deformed pupils, semi-realistic, cgi, 3d, render, sketch, cartoon, drawing, "
    "anime, mutated hands and fingers:1.4), (deformed, distorted, disfigured:1.3), poorly drawn, bad anatomy, "
    "wrong anatomy, extra limb, missing limb, floating limbs, disconnected limbs, mutation, mutated, ugly, "
    "disgusting, amputation"
)
#: Pixels of the official working resolution, 320 x 512.
OFFICIAL_AREA = 320 * 512
#: Latents are 1/8 of the image and the UNets halve them three times, so sides are multiples of 64.
SIZE_MULTIPLE = 64


def working_size(size: tuple[int, int], resolution: tuple[int, int] | None = None, max_area: int = OFFICIAL_AREA) -> tuple[int, int]:
    """The (H, W) the networks run at for an image of ``size``.

    ``resolution`` wins when given (each side a multiple of 64). Otherwise the image keeps
    its aspect, is shrunk to at most ``max_area`` pixels (320x512 by default, what the
    models were trained at) and each side is rounded to a multiple of 64 (at least 64).

    Example:
        >>> working_size((300, 451)), working_size((64, 64)), working_size((1080, 1920))
        ((320, 448), (64, 64), (320, 512))
    """
    if resolution is not None:
        h, w = (int(v) for v in resolution)
        if h < SIZE_MULTIPLE or w < SIZE_MULTIPLE or h % SIZE_MULTIPLE or w % SIZE_MULTIPLE:
            raise InvalidInputError(
                f"resolution must be (H, W) with both sides positive multiples of {SIZE_MULTIPLE}, got {resolution!r}"
            )
        return h, w
    h, w = size
    shrink = min(1.0, math.sqrt(max_area / float(h * w)))
    return tuple(max(SIZE_MULTIPLE, int(round(s * shrink / SIZE_MULTIPLE)) * SIZE_MULTIPLE) for s in (h, w))  # type: ignore[return-value]


def resize_image(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``(C, H, W)`` or ``(N, C, H, W)`` -> same at ``size``, bilinear (antialiased when shrinking).

    Example:
        >>> resize_image(torch.zeros(3, 8, 8), (4, 4)).shape
        torch.Size([3, 4, 4])
    """
    batched = image.dim() == 4
    x = image if batched else image[None]
    if tuple(x.shape[-2:]) != tuple(size):
        shrink = size[0] < x.shape[-2] or size[1] < x.shape[-1]
        x = F.interpolate(x.float(), size=size, mode="bilinear", align_corners=False, antialias=shrink).clamp(0, 1)
    return x if batched else x[0]


def check_image(image: torch.Tensor) -> torch.Tensor:
    """Validate a ``(3, H, W)`` float image in [0, 1].

    Example:
        >>> check_image(torch.zeros(3, 2, 2)).dtype
        torch.float32
    """
    if not isinstance(image, torch.Tensor) or image.dim() != 3 or image.shape[0] != 3:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ShapeMismatchError(f"image must be a (3, H, W) float tensor in [0, 1], got {shape}")
    if not all_finite(image):
        from motionkit.errors import NonFiniteError

        raise NonFiniteError("image holds NaN or infinite values")
    return image.float()


def encode_prompt(
    text_encoder: Any,
    tokenizer: Any,
    prompt: str,
    negative_prompt: str | None,
    *,
    guidance: bool,
    device: torch.device,
) -> torch.Tensor:
    """CLIP embeddings ``[uncond, cond]`` (``(2, L, D)``) or ``cond`` alone (``(1, L, D)``).

    Both are padded to the tokenizer's ``model_max_length`` (77 for SD-1.5), as the official
    pipelines do; the unconditional text is ``negative_prompt`` or the empty string.

    Example:
        >>> encode_prompt(text_encoder, tokenizer, "a boat", "", guidance=True, device=torch.device("cpu")).shape  # doctest: +SKIP
        torch.Size([2, 77, 768])
    """

    def embed(text: str) -> torch.Tensor:
        ids = tokenizer(
            [text], padding="max_length", max_length=tokenizer.model_max_length, truncation=True, return_tensors="pt"
        ).input_ids
        return text_encoder(ids.to(device))[0]

    cond = embed(prompt or "")
    if not guidance:
        return cond
    return torch.cat([embed(negative_prompt or ""), cond])


def vae_encode(vae: Any, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """``(N, C, H, W)`` -> ``latent_dist.sample()`` ``(N, 4, H/8, W/8)`` (unscaled), one image at a time.

    Example:
        >>> vae_encode(vae, image[None] * 2 - 1, torch.Generator().manual_seed(0)).shape  # doctest: +SKIP
        torch.Size([1, 4, 40, 64])
    """
    dtype = next(vae.parameters()).dtype
    device = next(vae.parameters()).device
    out = []
    for i in range(images.shape[0]):
        dist = vae.encode(images[i : i + 1].to(device=device, dtype=dtype)).latent_dist
        out.append(dist.sample(generator=generator).float())
    return torch.cat(out)


def vae_decode(vae: Any):
    """A ``(1, 4, h, w) -> (1, C, 8h, 8w)`` float32 decoder for :func:`~motionkit.pipelines.motion_i2v.loops.decode_frames`.

    Example:
        >>> decode_frames(vae_decode(vae), latents, LATENT_SCALE)  # doctest: +SKIP
    """
    dtype = next(vae.parameters()).dtype
    device = next(vae.parameters()).device

    def decode(z: torch.Tensor) -> torch.Tensor:
        return vae.decode(z.to(device=device, dtype=dtype)).sample.float()

    return decode


def make_generator(seed: int | None, generator: torch.Generator | None, device: torch.device) -> torch.Generator:
    """The generator a call draws from: ``generator`` if given, else a new one seeded with ``seed`` (random if None).

    Example:
        >>> make_generator(0, None, torch.device("cpu")).initial_seed()
        0
    """
    if generator is not None:
        return generator
    gen = torch.Generator(device="cpu")
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(int(seed))
    return gen


def randn(shape: tuple[int, ...], generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """Standard normal noise drawn on the generator's device, then moved to ``device`` (float32).

    Example:
        >>> randn((2, 3), make_generator(0, None, torch.device("cpu")), torch.device("cpu")).shape
        torch.Size([2, 3])
    """
    return torch.randn(shape, generator=generator, device=generator.device, dtype=torch.float32).to(device)


@contextlib.contextmanager
def placed(module: Any, device: torch.device, offload: bool) -> Iterator[Any]:
    """Use ``module`` on ``device``; with ``offload`` it returns to the CPU afterwards.

    This is the model-CPU-offload idea of diffusers: only the module in use occupies the
    accelerator's memory.

    Example:
        >>> with placed(unet, torch.device("cuda"), offload=True):  # doctest: +SKIP
        ...     eps = unet(x, t, stride, encoder_hidden_states=text)
    """
    if not offload or module is None or not hasattr(module, "to"):
        yield module
        return
    module.to(device)
    try:
        yield module
    finally:
        module.to("cpu")
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
