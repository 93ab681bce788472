//! The `npu` dialect (the example vendor dialect): its IRDL definition and op names.
//! Semantics: `docs/dialects/npu.md`; the C each op becomes: `runtime/npu/npu.h`.

/// The IRDL source, loaded into every context of a registry the `npu` back end is in.
pub const IRDL: &str = include_str!("npu.irdl.mlir");

pub const DMA_LOAD: &str = "npu.dma_load";
pub const DMA_STORE: &str = "npu.dma_store";
pub const DMA_WAIT: &str = "npu.dma_wait";
pub const CONV2D: &str = "npu.conv2d";
pub const FULLY_CONNECTED: &str = "npu.fully_connected";
pub const DEPTHWISE_CONV2D: &str = "npu.depthwise_conv2d";
pub const MAX_POOL2D: &str = "npu.max_pool2d";
pub const AVG_POOL2D: &str = "npu.avg_pool2d";
pub const REQUANT: &str = "npu.requant";
pub const CLAMP: &str = "npu.clamp";
pub const LUT: &str = "npu.lut";
pub const ADD: &str = "npu.add";
pub const MUL: &str = "npu.mul";

/// The npu compute op of each tile op the accelerator computes.
pub const COMPUTE: &[(&str, &str)] = &[
    ("tile.conv2d", CONV2D),
    ("tile.fully_connected", FULLY_CONNECTED),
    ("tile.depthwise_conv2d", DEPTHWISE_CONV2D),
    ("tile.max_pool2d", MAX_POOL2D),
    ("tile.avg_pool2d", AVG_POOL2D),
    ("tile.requant", REQUANT),
    ("tile.clamp", CLAMP),
    ("tile.lut", LUT),
    ("tile.add", ADD),
    ("tile.mul", MUL),
];

/// The id attribute every command has, and a DMA's dependency (`-1`: none).
pub const ID: &str = "id";
pub const AFTER: &str = "after";
