//! Set commands (Redis's t_set.c).

use super::table::CommandSpec;

/// The commands of this family.
pub static COMMANDS: &[CommandSpec] = &[];
