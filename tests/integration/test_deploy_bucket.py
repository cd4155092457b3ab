"""`switchboard deploy`'s artifact bucket: the caller's account owns it; versioned, TLS only.

moto ignores ExpectedBucketOwner and the TLS condition: s3_conditions.py models both.
Long: four deploy stories (create, refuse, warn, upgrade) on the same fixtures and helpers.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from infra.aws import Aws
from infra.commands import deploy as deploy_command
from tests.integration.s3_conditions import MOTO_ACCOUNT, BucketOwners, model_secure_transport
from tests.integration.test_deploy_moto import REGION, client, deploy, endpoint

__all__ = ["endpoint"]  # the moto server fixture, shared with test_deploy_moto
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")
DEFAULT_BUCKET = f"switchboard-artifacts-{MOTO_ACCOUNT}-{REGION}"
OTHER_ACCOUNT = "999999999999"
WRITES = {"CreateBucket", "PutObject", "PutBucketPolicy", "PutBucketVersioning"}


@pytest.fixture
def owners(monkeypatch: pytest.MonkeyPatch) -> BucketOwners:
    """Deploy's S3 clients answer a wrong ExpectedBucketOwner as S3 does; calls are recorded."""
    double = BucketOwners()

    class OwnerCheckingAws(Aws):
        def client(self, service: str) -> Any:
            made = super().client(service)
            return double.attach(made) if service == "s3" else made

    monkeypatch.setattr(deploy_command, "Aws", OwnerCheckingAws)
    return double


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A small zip: moto's Lambda stores the code without running it."""
    path = tmp_path / "package.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("entrypoints/__init__.py", "")
    return path


def make_bucket(endpoint: str, name: str, policy: dict[str, Any] | None = None) -> Any:
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    if policy is not None:
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
    return s3


def tls_only(bucket: str) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


# Someone's own statement, which deploy must keep.
NO_DELETE = {"Sid": "NoDelete", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket",
             "Resource": "arn:aws:s3:::*"}  # fmt: skip


def test_deploy_creates_its_bucket_versioned_and_tls_only_and_every_call_expects_the_account(
    endpoint: str,
    owners: BucketOwners,
    package: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert deploy(endpoint, "--package", str(package)) == 0
    s3 = client(endpoint, "s3")
    assert s3.get_bucket_versioning(Bucket=DEFAULT_BUCKET)["Status"] == "Enabled"
    policy = json.loads(s3.get_bucket_policy(Bucket=DEFAULT_BUCKET)["Policy"])
    assert policy["Statement"] == [tls_only(DEFAULT_BUCKET)]
    (package_key,) = [o["Key"] for o in s3.list_objects_v2(Bucket=DEFAULT_BUCKET)["Contents"]]
    created = list(owners.calls)

    # The next deploy finds the bucket as it should be and the package there: it writes nothing.
    # (A changed parameter: moto refuses a change set without changes, AWS makes it FAILED.)
    owners.calls.clear()
    assert deploy(endpoint, "--package", str(package), "--parameter", "MemorySize=1024") == 0
    assert "Package already uploaded" in capsys.readouterr().out
    assert not WRITES & {call.operation for call in owners.calls}

    operations = {call.operation for call in created + owners.calls}
    assert {"HeadBucket", "CreateBucket", "PutPublicAccessBlock", "PutBucketEncryption",
            "PutBucketVersioning", "PutBucketPolicy", "PutObject", "HeadObject",
            "GetBucketVersioning", "GetBucketPolicy"} <= operations  # fmt: skip
    for call in created + owners.calls:
        # CreateBucket is the one call S3 does not let name an owner (it has none yet).
        expected = None if call.operation == "CreateBucket" else MOTO_ACCOUNT
        assert (call.operation, call.expected_owner) == (call.operation, expected)

    # What the policy is for: a request without TLS gets nothing.
    model_secure_transport(monkeypatch, secure=False)
    with pytest.raises(ClientError) as denied:
        s3.get_object(Bucket=DEFAULT_BUCKET, Key=package_key)
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.parametrize("passed", [True, False], ids=["--bucket", "squatted-default-name"])
def test_a_bucket_of_another_account_is_refused_and_nothing_is_uploaded(
    endpoint: str,
    owners: BucketOwners,
    package: Path,
    capsys: pytest.CaptureFixture[str],
    passed: bool,
) -> None:
    bucket = "someone-elses-bucket" if passed else DEFAULT_BUCKET
    s3 = make_bucket(endpoint, bucket)
    owners.owners[bucket] = OTHER_ACCOUNT
    assert deploy(endpoint, "--package", str(package), *(["--bucket", bucket] * passed)) == 1
    err = capsys.readouterr().err
    assert f"Bucket {bucket!r} is not owned by account {MOTO_ACCOUNT}" in err
    assert "Nothing was uploaded" in err and "--bucket" in err
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    assert not WRITES & {call.operation for call in owners.calls}
    assert client(endpoint, "cloudformation").describe_stacks()["Stacks"] == []


def test_a_bucket_passed_with_bucket_is_used_as_it_is_with_a_warning_for_what_it_lacks(
    endpoint: str, owners: BucketOwners, package: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bucket = "my-own-bucket"
    s3 = make_bucket(endpoint, bucket, {"Version": "2012-10-17", "Statement": [NO_DELETE]})
    assert deploy(endpoint, "--package", str(package), "--bucket", bucket) == 0
    err = capsys.readouterr().err
    assert f"warning: bucket {bucket!r} does not keep versions" in err
    assert f"put-bucket-versioning --bucket {bucket} " in err
    assert f"warning: the policy of bucket {bucket!r} does not deny requests without TLS" in err
    assert json.dumps(tls_only(bucket)) in err  # the statement to add, ready to paste
    # Unchanged: deploy does not rewrite someone's bucket.
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"] == [NO_DELETE]
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1  # the package went up

    # Once the bucket has both, deploy has nothing to say about it.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(
        {"Version": "2012-10-17", "Statement": [NO_DELETE, tls_only(bucket)]}))  # fmt: skip
    again = ("--bucket", bucket, "--parameter", "MemorySize=1024")
    assert deploy(endpoint, "--package", str(package), *again) == 0
    assert "warning" not in capsys.readouterr().err


def test_the_default_bucket_an_older_deploy_made_is_brought_up_to_standard(
    endpoint: str, owners: BucketOwners, package: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s3 = make_bucket(endpoint, DEFAULT_BUCKET, {"Version": "2012-10-17", "Statement": [NO_DELETE]})
    assert deploy(endpoint, "--package", str(package)) == 0
    out = capsys.readouterr().out
    assert f"Turning on versioning for bucket {DEFAULT_BUCKET}" in out
    assert "Adding a statement that denies requests without TLS" in out
    assert s3.get_bucket_versioning(Bucket=DEFAULT_BUCKET)["Status"] == "Enabled"
    policy = json.loads(s3.get_bucket_policy(Bucket=DEFAULT_BUCKET)["Policy"])
    assert policy["Statement"] == [NO_DELETE, tls_only(DEFAULT_BUCKET)]
