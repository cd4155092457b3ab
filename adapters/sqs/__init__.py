"""SQS: shard tasks queued for the fan-out worker Lambda, and their message bodies."""
