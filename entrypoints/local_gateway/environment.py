"""What `serve` sets up in its own process before the handler runs: the environment a Lambda
function would see, the local token secret for --auth, and room for many sockets."""

from __future__ import annotations

import argparse
import os
from collections.abc import MutableMapping


def prepare_environment(args: argparse.Namespace, port: int) -> str:
    env = os.environ
    host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    env["APIGW_ENDPOINT"] = f"http://{host}:{port}/{args.stage}"
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    env["AWS_REGION"] = region
    env.setdefault("AWS_DEFAULT_REGION", region)  # Lambda sets both; botocore reads this one
    env.setdefault("CONNECTIONS_TABLE", "switchboard-connections")
    if not env.get("AWS_ACCESS_KEY_ID") and not env.get("AWS_PROFILE"):
        # Nothing here talks to AWS; dummy keys spare botocore a search for real ones.
        env["AWS_ACCESS_KEY_ID"] = "local"
        env["AWS_SECRET_ACCESS_KEY"] = "local"
    return region


def local_auth_environment(env: MutableMapping[str, str]) -> None:
    """What --auth means to the authorizer: HS256 with the secret `switchboard token` uses."""
    from entrypoints.commands.local_secret import LOCAL_AUDIENCE, LOCAL_ISSUER, local_secret

    for name in ("AUTH_SECRET_PARAMETER", "AUTH_PUBLIC_KEY", "AUTH_JWKS_URL"):
        env.pop(name, None)  # one key source only: the local secret
    env.update(
        AUTH_ALGORITHM="HS256",
        AUTH_SECRET=local_secret(),
        AUTH_ISSUER=LOCAL_ISSUER,
        AUTH_AUDIENCE=LOCAL_AUDIENCE,
    )


def raise_open_files_limit() -> None:
    # Each client is a file descriptor; 1,000 clients exceed the usual soft limit of 1,024.
    try:
        import resource
    except ImportError:  # not on Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
