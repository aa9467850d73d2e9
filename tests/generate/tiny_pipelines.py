"""Tiny, randomly initialised diffusers models for the diffusers backend's tests.

Nothing here is downloaded: every model is built from a small config with seeded random
weights and written with ``save_pretrained``, so the backend's real loading code reads it
back exactly as it would read a checkpoint from the hub. Images are 32x32 and every network
has a few thousand parameters, so a two-step generation takes milliseconds on a CPU (a clip of
a few frames, a few hundred milliseconds).
"""

from __future__ import annotations

from pathlib import Path

import torch
from diffusers import (
    AnimateDiffControlNetPipeline,
    AutoencoderKL,
    AutoencoderKLWan,
    ControlNetModel,
    ControlNetUnionModel,
    EulerAncestralDiscreteScheduler,
    FlowMatchEulerDiscreteScheduler,
    FluxControlNetModel,
    FluxPipeline,
    FluxTransformer2DModel,
    MotionAdapter,
    StableDiffusionPipeline,
    StableDiffusionXLPipeline,
    UNet2DConditionModel,
    WanVACEPipeline,
    WanVACETransformer3DModel,
)
from safetensors.torch import save_file
from transformers import (
    CLIPTextConfig,
    CLIPTextModel,
    CLIPTextModelWithProjection,
    CLIPTokenizer,
    CLIPVisionConfig,
    CLIPVisionModelWithProjection,
    T5Config,
    T5EncoderModel,
    T5Tokenizer,
    UMT5Config,
    UMT5EncoderModel,
)

TEXT_WIDTH = 32  # hidden size of every tiny text encoder
IMAGE_EMBED_WIDTH = 16  # projection size of the tiny CLIP image encoder
IP_ADAPTER_WEIGHTS = "ip-adapter_tiny.safetensors"
WAN_CONTRAST = 12.0


def _byte_vocab() -> dict[str, int]:
    """CLIP's byte-level BPE vocabulary with no merges: every byte alone and at a word's end.

    GPT-2's byte-to-character table, so every prompt tokenises (one token per byte).
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars = [chr(b) for b in printable] + [chr(256 + n) for n in range(256 - len(printable))]
    tokens = ["<|startoftext|>", "<|endoftext|>", *chars, *(c + "</w>" for c in chars)]
    return {token: index for index, token in enumerate(tokens)}


def clip_tokenizer() -> CLIPTokenizer:
    """A CLIP tokenizer over the byte vocabulary, padded to 77 tokens like the real one."""
    return CLIPTokenizer(vocab=_byte_vocab(), merges=[], model_max_length=77)


def _clip_text_config(projection_dim: int = TEXT_WIDTH) -> CLIPTextConfig:
    vocab = _byte_vocab()
    return CLIPTextConfig(
        vocab_size=len(vocab),
        hidden_size=TEXT_WIDTH,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=77,
        projection_dim=projection_dim,
        bos_token_id=vocab["<|startoftext|>"],
        eos_token_id=vocab["<|endoftext|>"],
        pad_token_id=vocab["<|endoftext|>"],
    )


def _vae(latent_channels: int = 4, **flux: object) -> AutoencoderKL:
    # Two blocks: latents are half the image size (real models: an eighth).
    return AutoencoderKL(
        block_out_channels=(8, 16) if not flux else (8,),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * (1 if flux else 2),
        up_block_types=("UpDecoderBlock2D",) * (1 if flux else 2),
        latent_channels=latent_channels,
        layers_per_block=1,
        norm_num_groups=4,
        sample_size=32,
        **flux,
    )


def _wake(model: torch.nn.Module) -> None:
    """Give a ControlNet's zero-initialised output layers random weights.

    A freshly made ControlNet adds exactly nothing to the UNet (that is how training starts),
    so without this the tests could not see whether the control images were used.
    """
    with torch.no_grad():
        for parameter in model.parameters():
            if not parameter.any():
                parameter.normal_(0.0, 0.5)


def build_sd15(root: Path) -> Path:
    """A tiny Stable Diffusion 1.5-architecture pipeline saved under ``root``; returns its folder."""
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=16,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=TEXT_WIDTH,
        attention_head_dim=4,
        norm_num_groups=4,
    )
    pipe = StableDiffusionPipeline(
        unet=unet,
        vae=_vae(),
        text_encoder=CLIPTextModel(_clip_text_config()),
        tokenizer=clip_tokenizer(),
        # Ancestral sampling draws noise at every step: the strictest test of per-image seeds.
        scheduler=EulerAncestralDiscreteScheduler(beta_schedule="scaled_linear", steps_offset=1),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    folder = root / "sd15"
    pipe.save_pretrained(folder)
    return folder


def build_sdxl(root: Path) -> Path:
    """A tiny SDXL-architecture pipeline (two text encoders, size and crop conditioning)."""
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=16,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4),
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=8,
        transformer_layers_per_block=(1, 1),
        projection_class_embeddings_input_dim=6 * 8 + TEXT_WIDTH,
        cross_attention_dim=2 * TEXT_WIDTH,
        norm_num_groups=4,
    )
    pipe = StableDiffusionXLPipeline(
        unet=unet,
        vae=_vae(),
        text_encoder=CLIPTextModel(_clip_text_config()),
        text_encoder_2=CLIPTextModelWithProjection(_clip_text_config()),
        tokenizer=clip_tokenizer(),
        tokenizer_2=clip_tokenizer(),
        scheduler=EulerAncestralDiscreteScheduler(beta_schedule="scaled_linear", steps_offset=1),
    )
    folder = root / "sdxl"
    pipe.save_pretrained(folder)
    return folder


def build_flux(root: Path) -> Path:
    """A tiny Flux-architecture pipeline (CLIP + T5 text encoders, one double and one single block)."""
    torch.manual_seed(0)
    transformer = FluxTransformer2DModel(
        patch_size=1,
        in_channels=4,
        num_layers=1,
        num_single_layers=1,
        attention_head_dim=16,
        num_attention_heads=2,
        joint_attention_dim=TEXT_WIDTH,
        pooled_projection_dim=TEXT_WIDTH,
        axes_dims_rope=[4, 4, 8],
    )
    t5_vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0)]
    t5_vocab += [(chr(c), -3.0) for c in range(ord("a"), ord("z") + 1)]
    pipe = FluxPipeline(
        transformer=transformer,
        vae=_vae(
            latent_channels=1, use_quant_conv=False, use_post_quant_conv=False, shift_factor=0.06, scaling_factor=1.5
        ),
        text_encoder=CLIPTextModel(_clip_text_config()),
        tokenizer=clip_tokenizer(),
        text_encoder_2=T5EncoderModel(
            T5Config(vocab_size=len(t5_vocab), d_model=TEXT_WIDTH, d_kv=8, d_ff=37, num_layers=1, num_heads=4)
        ),
        tokenizer_2=T5Tokenizer(vocab=t5_vocab, extra_ids=0),
        scheduler=FlowMatchEulerDiscreteScheduler(),
    )
    folder = root / "flux"
    pipe.save_pretrained(folder)
    return folder


def build_controlnet(pipeline: Path, name: str, *, seed: int, union: bool = False) -> Path:
    """A ControlNet (or a union ControlNet) for the pipeline in ``pipeline``, saved beside it."""
    torch.manual_seed(seed)
    if (pipeline / "transformer").is_dir():
        transformer = FluxTransformer2DModel.from_pretrained(pipeline / "transformer")
        controlnet = FluxControlNetModel.from_transformer(
            transformer, num_layers=1, num_single_layers=1, attention_head_dim=16, num_attention_heads=2
        )
        if union:
            controlnet = FluxControlNetModel.from_config(controlnet.config, num_mode=10)
    else:
        unet = UNet2DConditionModel.from_pretrained(pipeline / "unet")
        kind = ControlNetUnionModel if union else ControlNetModel
        # One stride-2 step in the hint encoder, matching the tiny VAE's halving.
        controlnet = kind.from_unet(unet, conditioning_embedding_out_channels=(8, 16))
        if union:  # its condition transformer is sized for SDXL's 320 channels whatever the UNet
            width = unet.config.block_out_channels[0]
            controlnet = kind.from_config(
                controlnet.config, num_trans_channel=width, num_proj_channel=width, num_trans_head=2
            )
    _wake(controlnet)
    folder = pipeline.parent / name
    controlnet.save_pretrained(folder)
    return folder


def build_ip_adapter(pipeline: Path) -> Path:
    """An IP-Adapter for the UNet in ``pipeline``: a CLIP image encoder in ``image_encoder/``
    and the adapter weights in the original IP-Adapter layout, in one folder beside it.

    The layout is the published one: ``image_proj.proj`` maps an image embedding to four
    tokens, and ``ip_adapter.<n>.to_k_ip``/``to_v_ip`` are numbered 1, 3, 5... over the UNet's
    attention layers in order, the cross-attention ones being the odd ones.
    """
    torch.manual_seed(1)
    unet = UNet2DConditionModel.from_pretrained(pipeline / "unet")
    folder = pipeline.parent / "ip_adapter"
    CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=32,
            intermediate_size=37,
            num_hidden_layers=1,
            num_attention_heads=4,
            image_size=32,
            patch_size=8,
            projection_dim=IMAGE_EMBED_WIDTH,
        )
    ).save_pretrained(folder / "image_encoder")
    width = unet.config.cross_attention_dim
    weights = {
        "image_proj.proj.weight": torch.randn(4 * width, IMAGE_EMBED_WIDTH),
        "image_proj.proj.bias": torch.randn(4 * width),
        "image_proj.norm.weight": torch.ones(width),
        "image_proj.norm.bias": torch.zeros(width),
    }
    channels = unet.config.block_out_channels
    for number, name in enumerate(n for n in unet.attn_processors if n.endswith("attn2.processor")):
        block = int(name.split(".")[1]) if not name.startswith("mid_block") else -1
        hidden = channels[-1] if block < 0 else (channels if name.startswith("down") else channels[::-1])[block]
        for projection in ("to_k_ip", "to_v_ip"):
            weights[f"ip_adapter.{2 * number + 1}.{projection}.weight"] = torch.randn(hidden, width)
    save_file(weights, folder / IP_ADAPTER_WEIGHTS)
    return folder


def _t5_vocab() -> list[tuple[str, float]]:
    """A unigram vocabulary of single letters: every lower-case prompt tokenises."""
    return [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0)] + [
        (chr(c), -3.0) for c in range(ord("a"), ord("z") + 1)
    ]


def build_wan_vace(root: Path) -> Path:
    """A tiny Wan VACE pipeline: a causal 3D VAE that packs 4 frames into a latent after the
    first (so clips have 4k+1 frames) and 8x8 pixels into one, a UMT5 text encoder, and a
    three-layer transformer with VACE control blocks on two of them."""
    torch.manual_seed(0)
    vae = AutoencoderKLWan(
        base_dim=8, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
    )
    transformer = WanVACETransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=16,
        out_channels=16,
        text_dim=TEXT_WIDTH,
        freq_dim=256,
        ffn_dim=32,
        num_layers=3,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
        vace_layers=[0, 2],
        vace_in_channels=96,
    )
    _wake(transformer)  # VACE's zero-initialised control projections, so the control video shows
    with torch.no_grad():
        # A decoder this small paints nearly flat grey (its features are normalised per pixel
        # over three channels); a stronger last layer gives its pictures the contrast that lets
        # a test see in them what the latents carry.
        vae.decoder.conv_out.weight.mul_(WAN_CONTRAST)
        for block in transformer.vace_blocks:  # and hints that stand out from the text's
            block.proj_out.weight.mul_(4.0)
    vocab = _t5_vocab()
    pipe = WanVACEPipeline(
        transformer=transformer,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),
        text_encoder=UMT5EncoderModel(
            UMT5Config(vocab_size=len(vocab), d_model=TEXT_WIDTH, d_kv=8, d_ff=37, num_layers=1, num_heads=4)
        ),
        tokenizer=T5Tokenizer(vocab=vocab, extra_ids=0),
    )
    folder = root / "wan_vace"
    pipe.save_pretrained(folder)
    return folder


def build_motion_adapter(pipeline: Path, *, context: int = 16) -> Path:
    """An AnimateDiff motion adapter for the SD 1.5 UNet in ``pipeline``, saved beside it; its
    motion module sees ``context`` frames at most."""
    torch.manual_seed(5)
    unet = UNet2DConditionModel.from_pretrained(pipeline / "unet")
    adapter = MotionAdapter(
        block_out_channels=unet.config.block_out_channels,
        motion_layers_per_block=unet.config.layers_per_block,
        motion_norm_num_groups=unet.config.norm_num_groups,
        motion_num_attention_heads=2,
        motion_max_seq_length=context,
    )
    _wake(adapter)  # the motion modules' zero-initialised output layers, so frames mix
    folder = pipeline.parent / "motion_adapter"
    adapter.save_pretrained(folder)
    return folder


def build_animatediff(pipeline: Path, motion_adapter: Path, controlnet: Path) -> Path:
    """The SD 1.5 pipeline, a motion adapter and a ControlNet saved as one AnimateDiff ControlNet
    pipeline folder, as such pipelines are published."""
    pipe = AnimateDiffControlNetPipeline.from_pretrained(
        pipeline,
        motion_adapter=MotionAdapter.from_pretrained(motion_adapter),
        controlnet=ControlNetModel.from_pretrained(controlnet),
        feature_extractor=None,
    )
    folder = pipeline.parent / "animatediff"
    pipe.save_pretrained(folder)
    return folder
