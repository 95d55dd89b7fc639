//! Sorted-set commands (Redis's t_zset.c), including the blocking pops.

use super::table::CommandSpec;

/// The commands of this family.
pub static COMMANDS: &[CommandSpec] = &[];
