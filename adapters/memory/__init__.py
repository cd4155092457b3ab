"""In memory: the store, shard checkpoints and a local fan-out queue, for `switchboard serve`."""
