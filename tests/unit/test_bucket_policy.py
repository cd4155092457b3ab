"""Which bucket policies count as TLS only, and adding the statement to one that is not."""

from __future__ import annotations

from typing import Any

import pytest

from infra.bucket_policy import bucket_arn, denies_insecure_transport, with_tls_only

ARN = "arn:aws:s3:::b"


def deny(**changes: Any) -> dict[str, Any]:
    statement = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [ARN, f"{ARN}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    return {k: v for k, v in (statement | changes).items() if v is not None}


@pytest.mark.parametrize(
    "statement",
    [
        deny(),
        deny(Principal={"AWS": "*"}, Action=["s3:GetObject", "s3:*"]),
        deny(Resource="*", Condition={"Bool": {"aws:SecureTransport": False}}),
    ],
)
def test_a_deny_of_everything_without_tls_counts(statement: dict[str, Any]) -> None:
    assert denies_insecure_transport({"Statement": statement}, ARN)
    assert denies_insecure_transport({"Statement": [{"Effect": "Allow"}, statement]}, ARN)


@pytest.mark.parametrize(
    "statement",
    [
        deny(Effect="Allow"),
        deny(Principal={"AWS": "arn:aws:iam::123456789012:root"}),
        deny(Action="s3:PutObject"),
        deny(Resource=f"{ARN}/*"),  # the bucket itself stays open
        deny(Resource=["arn:aws:s3:::other", "arn:aws:s3:::other/*"]),
        deny(Condition={"Bool": {"aws:SecureTransport": "true"}}),
        deny(Condition=None),
    ],
)
def test_a_narrower_statement_does_not(statement: dict[str, Any]) -> None:
    assert not denies_insecure_transport({"Statement": [statement]}, ARN)


def test_no_policy_does_not() -> None:
    assert not denies_insecure_transport(None, ARN)
    assert not denies_insecure_transport({}, ARN)


def test_adding_the_statement_keeps_the_others_and_replaces_a_stale_one_of_its_name() -> None:
    theirs = {"Sid": "Theirs", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket",
              "Resource": ARN}  # fmt: skip
    stale = deny(Sid="DenyInsecureTransport", Action="s3:PutObject")
    policy = with_tls_only({"Version": "2008-10-17", "Statement": [theirs, stale]}, ARN)
    assert policy["Version"] == "2008-10-17"
    assert policy["Statement"][0] == theirs
    assert policy["Statement"][1] == deny(Sid="DenyInsecureTransport")
    assert len(policy["Statement"]) == 2
    assert with_tls_only(policy, ARN) == policy  # once there, nothing changes
    assert with_tls_only(None, ARN)["Statement"] == [deny(Sid="DenyInsecureTransport")]


def test_the_arn_is_in_the_buckets_partition() -> None:
    assert bucket_arn("aws-cn", "b") == "arn:aws-cn:s3:::b"
