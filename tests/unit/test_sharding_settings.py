"""Sharding settings: where shards go (SQS, local threads, nowhere) and how big they are."""

from __future__ import annotations

import pytest

from entrypoints.composition.settings import Settings, SettingsError

QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/fanout"


@pytest.mark.parametrize(
    ("env", "dispatch"),
    [
        ({}, "local"),  # a laptop: `switchboard serve`
        ({"FANOUT_QUEUE_URL": QUEUE}, "sqs"),
        ({"FANOUT_QUEUE_URL": QUEUE, "AWS_LAMBDA_FUNCTION_NAME": "h"}, "sqs"),
        ({"AWS_LAMBDA_FUNCTION_NAME": "h"}, "off"),  # a Lambda without a queue: no shards
        ({"DISPATCH": "off"}, "off"),
        ({"DISPATCH": "local", "FANOUT_QUEUE_URL": QUEUE}, "local"),
    ],
)
def test_shards_go_to_the_queue_when_there_is_one(env: dict[str, str], dispatch: str) -> None:
    assert Settings.from_environ(env).dispatch == dispatch


def test_defaults_and_bounds_of_the_shard_settings() -> None:
    settings = Settings.from_environ({})
    assert (settings.shard_threshold, settings.shard_size) == (2000, 1000)
    assert (settings.shard_workers, settings.shard_max_receive) == (4, 3)
    tuned = Settings.from_environ({"SHARD_THRESHOLD": "50", "SHARD_SIZE": "100"})
    assert (tuned.shard_threshold, tuned.shard_size) == (50, 100)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DISPATCH": "sqs"}, "DISPATCH=sqs needs FANOUT_QUEUE_URL"),
        ({"DISPATCH": "local", "AWS_LAMBDA_FUNCTION_NAME": "h"}, "cannot run inside AWS Lambda"),
        ({"DISPATCH": "lambda"}, "DISPATCH='lambda' is not one of sqs, local, off"),
        ({"SHARD_THRESHOLD": "0"}, "SHARD_THRESHOLD=0 is outside 1..10000000"),
        ({"SHARD_SIZE": "lots"}, "SHARD_SIZE='lots' is not a whole number"),
        ({"SHARD_WORKERS": "0"}, "SHARD_WORKERS=0 is outside 1..256"),
    ],
)
def test_settings_that_cannot_work_are_refused_saying_why(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_environ(env)
