"""`switchboard token`: mint a JWT for `switchboard serve --auth` (HS256, the local secret)."""

from __future__ import annotations

import argparse
import re

HELP = "mint a token for the local gateway's authorizer (switchboard serve --auth)"
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> int:
    """`90`, `90s`, `15m`, `1h`, `2d` as seconds."""
    match = re.fullmatch(r"(\d+)([smhd]?)", text.strip())
    if not match or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 90s, 15m, 1h or 2d")
    return int(match.group(1)) * UNITS[match.group(2) or "s"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sub", required=True, help="the caller's identity (the sub claim)")
    parser.add_argument(
        "--rooms",
        nargs="*",
        default=["public:*", "user:{sub}"],
        metavar="PATTERN",
        help="room patterns the token allows (default: public:* user:{sub})",
    )
    parser.add_argument(
        "--ttl",
        type=duration,
        default=3600,
        help="lifetime, e.g. 1h (default); at most AUTH_MAX_TTL seconds (default 1 day)",
    )
    parser.add_argument(
        "--broadcast",
        action="store_true",
        help="allow broadcasting to everyone (the broadcast claim); without it, rooms only",
    )


def run(args: argparse.Namespace) -> int:
    from adapters.tokens.jwt_tokens import mint
    from entrypoints.commands.local_secret import LOCAL_AUDIENCE, LOCAL_ISSUER, local_secret
    from entrypoints.composition.settings import SettingsError, max_ttl_from_environ

    try:
        max_ttl = max_ttl_from_environ()
    except SettingsError as exc:
        raise SystemExit(f"switchboard token: {exc}") from None
    if args.ttl > max_ttl:
        raise SystemExit(
            f"switchboard token: --ttl is {args.ttl} s, longer than the {max_ttl} s the"
            " authorizer accepts; set AUTH_MAX_TTL (for it and for this command) to allow more"
        )
    try:
        token = mint(
            local_secret(),
            args.sub,
            args.rooms,
            args.ttl,
            LOCAL_ISSUER,
            LOCAL_AUDIENCE,
            broadcast=args.broadcast,
        )
    except ValueError as exc:
        raise SystemExit(f"switchboard token: {exc}") from None
    print(token)
    return 0
