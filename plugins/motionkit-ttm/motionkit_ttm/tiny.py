"""Tiny, randomly initialised diffusers pipelines for each backbone (the diffusers test style).

For tests and tutorials: each builds in well under a second and renders a few 32 x 32 frames
on the CPU in seconds. Random weights make random-looking videos; what they show is that the
code path runs and where the motion goes in the latents. Text encoders get a letter-level
tokenizer built here (no tokenizer can be downloaded).

Example:
    >>> import motionkit as mk
    >>> wan = mk.Renderer.get("ttm-wan", pipeline=tiny_wan(expanded=True), device="cpu", steps=4, text_tokens=16)  # doctest: +SKIP
"""

from __future__ import annotations

import torch


def tiny_tokenizer(max_length: int = 16):
    """A word-level tokenizer built here (none can be downloaded): every letter a token, pads to ``max_length``."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for letter in "abcdefghijklmnopqrstuvwxyz":
        vocab[letter] = len(vocab)
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    return PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                                   model_max_length=max_length)


def tiny_t5(d_model: int = 16, umt5: bool = False):
    from transformers import T5Config, T5EncoderModel, UMT5EncoderModel

    config = T5Config(vocab_size=32, d_model=d_model, d_kv=4, d_ff=32, num_layers=1, num_heads=2,
                      relative_attention_num_buckets=8, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
    return (UMT5EncoderModel if umt5 else T5EncoderModel)(config)


def tiny_wan(expanded: bool = False, two_experts: bool = False):
    """``WanImageToVideoPipeline``: I2V layout (36-channel input, Wan 2.2 A14B-like; optionally two experts)
    or the TI2V-5B layout (``expand_timesteps``, 16-channel latents here)."""
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanImageToVideoPipeline, WanTransformer3DModel

    torch.manual_seed(0)
    # latents_std ~ the random encoder's spread, so normalised latents are about unit size (as real ones are)
    vae = AutoencoderKLWan(base_dim=16, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True],
                           latents_mean=[0.0] * 16, latents_std=[0.1] * 16)

    def transformer():
        return WanTransformer3DModel(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=8,
                                     in_channels=16 if expanded else 36, out_channels=16, text_dim=16, freq_dim=16,
                                     ffn_dim=16, num_layers=2, rope_max_seq_len=32)

    scheduler = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=1.0)
    return WanImageToVideoPipeline(
        tokenizer=tiny_tokenizer(), text_encoder=tiny_t5(umt5=True), vae=vae, scheduler=scheduler,
        transformer=transformer(), transformer_2=transformer() if two_experts else None,
        boundary_ratio=0.875 if two_experts else None, expand_timesteps=expanded,
    )


def tiny_cogvideox(dpm: bool = True):
    """``CogVideoXImageToVideoPipeline`` with a two-layer transformer (32-channel input: latents + image latents)."""
    from diffusers import (AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, CogVideoXDPMScheduler,
                           CogVideoXImageToVideoPipeline, CogVideoXTransformer3DModel)

    torch.manual_seed(0)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=2, attention_head_dim=16, in_channels=8, out_channels=4, time_embed_dim=4, text_embed_dim=16,
        num_layers=1, sample_width=4, sample_height=4, sample_frames=9, patch_size=2, temporal_compression_ratio=4,
        max_text_seq_length=16, use_rotary_positional_embeddings=True, use_learned_positional_embeddings=True,
    )
    vae = AutoencoderKLCogVideoX(
        in_channels=3, out_channels=3, down_block_types=("CogVideoXDownBlock3D",) * 4, up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8), latent_channels=4, layers_per_block=1, norm_num_groups=2, temporal_compression_ratio=4,
    )
    scheduler = (CogVideoXDPMScheduler if dpm else CogVideoXDDIMScheduler)(
        timestep_spacing="trailing", prediction_type="v_prediction", rescale_betas_zero_snr=True, beta_schedule="scaled_linear",
        beta_start=0.00085, beta_end=0.012, clip_sample=False, snr_shift_scale=1.0)
    return CogVideoXImageToVideoPipeline(tokenizer=tiny_tokenizer(), text_encoder=tiny_t5(), vae=vae, transformer=transformer,
                                         scheduler=scheduler)


def tiny_ltx():
    """``LTXImageToVideoPipeline`` with a one-layer transformer and a two-level VAE (8 px, 2 frames per latent)."""
    from diffusers import AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler, LTXImageToVideoPipeline, LTXVideoTransformer3DModel

    torch.manual_seed(0)
    vae = AutoencoderKLLTXVideo(
        in_channels=3, out_channels=3, latent_channels=8, block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1), decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, False, False), decoder_spatio_temporal_scaling=(True, True, False, False),
        decoder_inject_noise=(False, False, False, False, False), upsample_residual=(False, False, False, False),
        upsample_factor=(1, 1, 1, 1), timestep_conditioning=False, patch_size=1, patch_size_t=1, encoder_causal=True, decoder_causal=False,
    )
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    transformer = LTXVideoTransformer3DModel(in_channels=8, out_channels=8, patch_size=1, patch_size_t=1, num_attention_heads=2,
                                             attention_head_dim=8, cross_attention_dim=16, num_layers=1, caption_channels=16)
    return LTXImageToVideoPipeline(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, text_encoder=tiny_t5(),
                                   tokenizer=tiny_tokenizer(), transformer=transformer)


def tiny_svd():
    """``StableVideoDiffusionPipeline`` with a two-block spatio-temporal UNet, temporal-decoder VAE and CLIP vision tower."""
    from diffusers import AutoencoderKLTemporalDecoder, EulerDiscreteScheduler, StableVideoDiffusionPipeline, UNetSpatioTemporalConditionModel
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=8, in_channels=8, out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"), cross_attention_dim=16, num_attention_heads=(2, 4),
        addition_time_embed_dim=4, projection_class_embeddings_input_dim=12, num_frames=5,
    )
    vae = AutoencoderKLTemporalDecoder(block_out_channels=(32, 64), in_channels=3, out_channels=3,
                                       down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"), latent_channels=4)
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(hidden_size=16, projection_dim=16, num_hidden_layers=1, num_attention_heads=2,
                                                             image_size=32, intermediate_size=16, patch_size=8))
    scheduler = EulerDiscreteScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, interpolation_type="linear",
                                       prediction_type="v_prediction", sigma_max=700.0, sigma_min=0.002, steps_offset=1,
                                       timestep_spacing="leading", timestep_type="continuous", use_karras_sigmas=True)
    features = CLIPImageProcessor(crop_size=32, size=32, do_center_crop=False)
    return StableVideoDiffusionPipeline(vae=vae, image_encoder=encoder, unet=unet, scheduler=scheduler, feature_extractor=features)
