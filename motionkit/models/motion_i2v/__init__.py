"""The Motion-I2V networks, faithful to the official release (G-U-N/Motion-I2V).

Public classes (all ``diffusers`` ``ModelMixin`` + ``ConfigMixin``, so ``save_pretrained`` /
``from_pretrained`` work with safetensors and ``config.json``; constructor keywords are the
official ``init_kwargs``; state_dict keys are the official ones):

* :class:`FlowUNet3DConditionModel`: stage 1, predicts the noise of a flow latent from the
  image latent + noisy flow latent ``(B, 8, F, h, w)``, the timestep, a per-frame stride and
  the text; an attached :class:`FlowControlNetModel` adds drag / brush control.
* :class:`FlowControlNetModel`: stage-1 ControlNet on the 5-channel condition (unscaled
  sparse-flow latent + mask).
* :class:`AnimationUNet3DConditionModel`: stage 2, renders video latents ``(B, 4, F, h, w)``
  along ``flow_pre`` ``(B, F, 2, 8h, 8w)`` (pixels) with motion-augmented temporal attention.
* :class:`MotionModule`: one AnimateDiff temporal module (plain or flow-augmented).
* :class:`UNet3DSpec`: the validated architecture settings; :func:`read_official_config`.

Parity with the official implementation is checked one floor up, by :mod:`motionkit.fidelity`
(``python -m motionkit.fidelity DIR``); these modules import nothing above ``ops`` and ``io``.

Example:
    >>> from motionkit.models.motion_i2v import FlowUNet3DConditionModel, read_official_config
    >>> unet = FlowUNet3DConditionModel(**read_official_config("stage1_unet_config.json"))  # doctest: +SKIP
"""

from .config import UNet3DSpec, read_official_config
from .controlnet import ControlNetOutput, FlowControlNetModel
from .motion_module import MotionModule
from .unet import AnimationUNet3DConditionModel, FlowUNet3DConditionModel, UNet3DConditionOutput

__all__ = [
    "AnimationUNet3DConditionModel",
    "ControlNetOutput",
    "FlowControlNetModel",
    "FlowUNet3DConditionModel",
    "MotionModule",
    "UNet3DConditionOutput",
    "UNet3DSpec",
    "read_official_config",
]
