"""The artifact bucket's policy: the statement that denies every request made without TLS."""

from __future__ import annotations

from typing import Any

TLS_ONLY_SID = "DenyInsecureTransport"


def bucket_arn(partition: str, bucket: str) -> str:
    """The bucket's ARN in its partition (aws, aws-cn, aws-us-gov...), not a hard-coded `aws`."""
    return f"arn:{partition}:s3:::{bucket}"


def tls_only_statement(arn: str) -> dict[str, Any]:
    """Deny any S3 action on the bucket and its objects over plain HTTP.

    The form AWS Config's s3-bucket-ssl-requests-only rule and CIS AWS 2.1.1 look for.
    """
    return {
        "Sid": TLS_ONLY_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def denies_insecure_transport(policy: dict[str, Any] | None, arn: str) -> bool:
    """Whether some statement of `policy` denies everyone every action without TLS.

    It must cover the bucket and its objects (by name or by "*"); a narrower statement, or one
    limited to some principals, leaves plain HTTP open for the rest.
    """
    for statement in _as_list((policy or {}).get("Statement")):
        if not isinstance(statement, dict) or statement.get("Effect") != "Deny":
            continue
        if statement.get("Principal") not in ("*", {"AWS": "*"}, {"AWS": ["*"]}):
            continue
        if not {"s3:*", "*"} & set(_as_list(statement.get("Action"))):
            continue
        resources = set(_as_list(statement.get("Resource")))
        if "*" not in resources and not {arn, f"{arn}/*"} <= resources:
            continue
        insecure = (statement.get("Condition") or {}).get("Bool", {}).get("aws:SecureTransport")
        if [str(value).lower() for value in _as_list(insecure)] == ["false"]:
            return True
    return False


def with_tls_only(policy: dict[str, Any] | None, arn: str) -> dict[str, Any]:
    """`policy` (or a new one) with the TLS-only statement added; its other statements kept."""
    if denies_insecure_transport(policy, arn):
        return dict(policy or {})
    kept = [s for s in _as_list((policy or {}).get("Statement")) if _sid(s) != TLS_ONLY_SID]
    return {
        **(policy or {}),
        "Version": (policy or {}).get("Version", "2012-10-17"),
        "Statement": [*kept, tls_only_statement(arn)],
    }


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _sid(statement: Any) -> Any:
    return statement.get("Sid") if isinstance(statement, dict) else None
