"""The package's home on S3: a bucket of the caller's account, keys named by content.

Bucket names are global and ours is predictable, so anyone may create it first and wait for
uploads. Every S3 call that accepts it therefore carries ExpectedBucketOwner, the caller's
account: S3 answers 403 to any of them on a bucket of another account, and deploy refuses it
before uploading anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from infra import bucket_settings
from infra.aws import Aws
from infra.stack_events import DeployError, Printer

KEY_PREFIX = "switchboard/lambda"
OWNER_PARAMETER = "ExpectedBucketOwner"


def default_bucket(account: str, region: str) -> str:
    """Bucket names are global: account and region make ours unique and stable."""
    return f"switchboard-artifacts-{account}-{region}"


def owner_checked_s3(aws: Aws, owner: str) -> Any:
    """An S3 client whose every call that accepts ExpectedBucketOwner (per botocore's model)
    carries `owner`: CreateBucket, which does not, goes without.

    A hook rather than an argument per call: it also covers the calls boto3's transfer
    manager makes on its own, such as AbortMultipartUpload after a failed part.
    """
    s3 = aws.client("s3")

    def expect_owner(params: dict[str, Any], model: Any, **_: Any) -> None:
        shape = model.input_shape
        if shape is not None and OWNER_PARAMETER in shape.members:
            params.setdefault(OWNER_PARAMETER, owner)

    s3.meta.events.register("before-parameter-build.s3", expect_owner)
    return s3


def ensure_bucket(
    aws: Aws, s3: Any, bucket: str, owner: str, ours: bool, out: Printer = print
) -> None:
    """Make sure `bucket` exists and belongs to `owner`; refuse it otherwise.

    `ours` is deploy's own bucket (the default name): created when missing (private, encrypted,
    versioned, TLS only) and brought up to that standard when an older deploy made it. A bucket
    passed with --bucket is someone's: deploy only checks it and warns (see bucket_settings).
    """
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as error:
        if _status(error) == 403:
            raise _not_owned(bucket, owner, ours) from error
        if _status(error) != 404:
            raise DeployError(f"Cannot use bucket {bucket!r}: {error}") from error
        if not ours:
            raise DeployError(f"Bucket {bucket!r} does not exist") from error
        _create(aws, s3, bucket, owner, ours, out)
        return
    bucket_settings.check(s3, bucket, aws.partition, maintain=ours, out=out)


def upload(s3: Any, bucket: str, package: Path, sha256: str, out: Printer = print) -> str:
    """Upload the package under its sha256 (once) and return the key.

    A new key per content is what makes CloudFormation see a code change, and an unchanged
    build a no-op. `s3` is an owner_checked_s3 client.
    """
    key = f"{KEY_PREFIX}/{sha256}.zip"
    try:
        s3.head_object(Bucket=bucket, Key=key)
        out(f"Package already uploaded: s3://{bucket}/{key}")
        return key
    except ClientError as error:
        if _status(error) != 404:
            raise
    out(f"Uploading {package.name} to s3://{bucket}/{key}")
    s3.upload_file(str(package), bucket, key)
    return key


def _create(aws: Aws, s3: Any, bucket: str, owner: str, ours: bool, out: Printer) -> None:
    out(f"Creating bucket {bucket}")
    region = aws.region_name
    # us-east-1 is the one region that refuses an explicit LocationConstraint.
    location: dict[str, Any] = {}
    if region != "us-east-1":
        location["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(Bucket=bucket, **location)
    except ClientError as error:  # another account took the name since the HeadBucket
        if error.response.get("Error", {}).get("Code") == "BucketAlreadyExists":
            raise _not_owned(bucket, owner, ours) from error
        raise
    # From here on every call expects the owner: a bucket that changed hands fails them.
    bucket_settings.configure_new(s3, bucket, aws.partition)


def _not_owned(bucket: str, owner: str, ours: bool) -> DeployError:
    remedy = (
        "Its name is the default one, so someone may have created it first: pass --bucket "
        f"with a bucket of account {owner}."
        if ours
        else f"Pass --bucket with a bucket of account {owner}."
    )
    return DeployError(
        f"Bucket {bucket!r} is not owned by account {owner}, the account of these credentials "
        "(S3 answered 403 Access Denied to a request expecting that owner; it answers the same "
        "when these credentials may not use the bucket). Nothing was uploaded. " + remedy
    )


def _status(error: ClientError) -> int | None:
    """The HTTP status: HEAD answers carry no body, so their error code is just "403"/"404"."""
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if status is None:
        code = str(error.response.get("Error", {}).get("Code", ""))
        return {"NoSuchBucket": 404, "NoSuchKey": 404, "NotFound": 404}.get(code)
    return int(status)
