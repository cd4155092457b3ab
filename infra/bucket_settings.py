"""The artifact bucket's settings: private, encrypted, versioned and TLS only.

Deploy sets them on a bucket it creates, and brings its own bucket (the default name) up to
them when an older deploy made it. A bucket passed with --bucket is only checked: deploy warns
about what it lacks, with the command that fixes it, and changes nothing. That bucket's policy
belongs to its owner, who may manage it elsewhere (another stack, Terraform) that would revert
or fight over a rewrite; PutBucketPolicy replaces the whole document, so a merge racing their
change would drop it; and versioning, once on, can only be suspended, never removed. Warning
rather than refusing: deploy's own requests use TLS whatever the policy says.

`s3` is always an owner-checked client (artifacts.owner_checked_s3).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from botocore.exceptions import ClientError

from infra import bucket_policy
from infra.stack_events import Printer


def warn(line: str) -> None:
    print(f"warning: {line}", file=sys.stderr)


def configure_new(s3: Any, bucket: str, partition: str) -> None:
    """A bucket deploy just created: no public access, encrypted, versioned, TLS only."""
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
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    arn = bucket_policy.bucket_arn(partition, bucket)
    policy = bucket_policy.with_tls_only(None, arn)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def check(s3: Any, bucket: str, partition: str, maintain: bool, out: Printer = print) -> None:
    """Versioning on and non-TLS requests denied: set them when `maintain`, else warn."""
    arn = bucket_policy.bucket_arn(partition, bucket)
    try:
        versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status")
        policy = _policy(s3, bucket)
    except ClientError as error:
        warn(f"could not read bucket {bucket!r}'s versioning and policy to check them: {error}")
        return
    if versioning != "Enabled":
        if maintain:
            out(f"Turning on versioning for bucket {bucket}")
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        else:
            warn(
                f"bucket {bucket!r} does not keep versions (versioning "
                f"{(versioning or 'never enabled').lower()}); deploy leaves your bucket as it "
                f"is. To turn it on: aws s3api put-bucket-versioning --bucket {bucket} "
                "--versioning-configuration Status=Enabled"
            )
    if not bucket_policy.denies_insecure_transport(policy, arn):
        if maintain:
            out(f"Adding a statement that denies requests without TLS to bucket {bucket}'s policy")
            s3.put_bucket_policy(
                Bucket=bucket, Policy=json.dumps(bucket_policy.with_tls_only(policy, arn))
            )
        else:
            warn(
                f"the policy of bucket {bucket!r} does not deny requests without TLS; "
                "deploy leaves your bucket's policy as it is. Add this statement to it: "
                + json.dumps(bucket_policy.tls_only_statement(arn))
            )


def _policy(s3: Any, bucket: str) -> dict[str, Any] | None:
    """The bucket's policy, or None when it has none."""
    try:
        document = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchBucketPolicy":
            return None
        raise
    parsed = json.loads(document)
    return parsed if isinstance(parsed, dict) else None
