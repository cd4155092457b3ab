"""DynamoDB: the connections table (store, reads, batch writes, shard checkpoints, schema)."""
