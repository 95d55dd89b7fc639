//! List commands (Redis's t_list.c): pushes, pops, ranges, moves and the blocking variants.

use super::table::CommandSpec;

/// The commands of this family.
pub static COMMANDS: &[CommandSpec] = &[];
