//! Hash commands (Redis's t_hash.c).

use super::table::CommandSpec;

/// The commands of this family.
pub static COMMANDS: &[CommandSpec] = &[];
