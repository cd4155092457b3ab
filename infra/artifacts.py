"""The package's home on S3: a bucket per account and region, keys named by content."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from infra.aws import Aws

KEY_PREFIX = "switchboard/lambda"


def default_bucket(aws: Aws) -> str:
    """Bucket names are global: account and region make ours unique and stable."""
    return f"switchboard-artifacts-{aws.account_id()}-{aws.region_name}"


def ensure_bucket(aws: Aws, bucket: str, create: bool) -> None:
    """Make sure `bucket` exists; create it (private, encrypted) when `create` is set."""
    s3 = aws.client("s3")
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise RuntimeError(f"Cannot use bucket {bucket!r}: {error}") from error
        if not create:
            raise RuntimeError(f"Bucket {bucket!r} does not exist") from error
    print(f"Creating bucket {bucket}")
    region = aws.region_name
    # us-east-1 is the one region that refuses an explicit LocationConstraint.
    location: dict[str, Any] = {}
    if region != "us-east-1":
        location["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(Bucket=bucket, **location)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )


def upload(aws: Aws, bucket: str, package: Path, sha256: str) -> str:
    """Upload the package under its sha256 (once) and return the key.

    A new key per content is what makes CloudFormation see a code change, and an unchanged
    build a no-op.
    """
    key = f"{KEY_PREFIX}/{sha256}.zip"
    s3 = aws.client("s3")
    try:
        s3.head_object(Bucket=bucket, Key=key)
        print(f"Package already uploaded: s3://{bucket}/{key}")
        return key
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            raise
    print(f"Uploading {package.name} to s3://{bucket}/{key}")
    s3.upload_file(str(package), bucket, key)
    return key
