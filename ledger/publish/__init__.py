"""The publisher: signed notes, checkpoints, the operator's key, and signing policy."""
