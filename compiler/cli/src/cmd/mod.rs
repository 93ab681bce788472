//! One module per subcommand: its arguments (`clap::Args`) and its `run`.

pub mod compile;
pub mod estimate;
pub mod eval;
pub mod explain;
pub mod finetune;
pub mod import;
pub mod ops;
pub mod opt;
pub mod report;
pub mod run;
pub mod targets;
