"""`switchboard publish`: a message to a room (or to everyone) through POST /publish, signed with
your AWS credentials; prints the answer, or the refusal and a non-zero exit."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

HELP = "publish a message to a room through the publish API (PublishURL, or serve's /publish)"


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        message = f"not JSON ({exc}); a string needs its quotes: '\"hi\"'"
        raise argparse.ArgumentTypeError(message) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        required=True,
        help="the stack's PublishURL, or http://127.0.0.1:PORT/publish for `switchboard serve`",
    )
    parser.add_argument("--room", help="the room (default: none, to every connection)")
    parser.add_argument(
        "--data", required=True, type=_json, metavar="JSON", help="the message, any JSON value"
    )
    parser.add_argument("--id", help="your id for it (1-64 characters): sent again, kept once")
    parser.add_argument("--region", help="the region to sign for (default: the URL's, else AWS')")
    parser.add_argument("--profile", help="the AWS profile to sign with (default: boto3's)")


def run(args: argparse.Namespace) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError

    from entrypoints.publish_client import PublishError, publish

    try:
        session = boto3.Session(profile_name=args.profile)
        answer = publish(
            args.url, args.room, args.data, args.id, session=session, region=args.region
        )
    except PublishError as refused:
        print(f"switchboard publish: {refused}", file=sys.stderr)
        return 1
    except (BotoCoreError, OSError, ValueError) as exc:
        print(f"switchboard publish: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(answer))
    return 0
