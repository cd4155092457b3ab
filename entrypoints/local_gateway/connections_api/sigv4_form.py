"""The form of a SigV4 Authorization header, checked as AWS does, with AWS's messages."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

SERVICE = "execute-api"
# AWS's SigV4 rule: "a request must reach AWS within five minutes of the time stamp in the
# request" (IAM User Guide); API Gateway's "Signature expired" answers say "- 5 min." too.
WINDOW = datetime.timedelta(minutes=5)
MISSING = "Missing Authentication Token"
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your"
    " AWS Secret Access Key and signing method. Consult the service documentation for details."
)
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_SIGNATURE = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Authorization:
    """`AWS4-HMAC-SHA256 Credential=KEY/DAY/REGION/SERVICE/aws4_request, SignedHeaders=a;b,
    Signature=HEX`, taken apart."""

    access_key: str
    day: str
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str


def parse(header: str) -> Authorization | str:
    """The header's parts, or what is wrong with its form."""
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        return f"Authorization must be AWS4-HMAC-SHA256 (SigV4), not {algorithm[:32]!r}"
    parts = dict(_pair(item) for item in rest.split(","))
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not parts.get(name)]
    if missing:
        return " ".join(f"Authorization header requires '{name}' parameter." for name in missing)
    scope = parts["Credential"].split("/")
    if len(scope) != 5 or not all(scope):
        return f"Credential must be KEY/YYYYMMDD/REGION/{SERVICE}/aws4_request"
    access_key, day, region, service, terminator = scope
    signed = tuple(parts["SignedHeaders"].split(";"))
    return Authorization(
        access_key, day, region, service, terminator, signed, signature=parts["Signature"]
    )


def problem(
    auth: Authorization, amz_date: str | None, region: str, now: datetime.datetime
) -> str | None:
    """What is wrong with a parsed header's scope, signed headers and date; None if nothing."""
    if auth.service != SERVICE:
        return f"Credential should be scoped to correct service: '{SERVICE}'. "
    if auth.terminator != "aws4_request":
        valid = "Credential should be scoped with a valid terminator: 'aws4_request'"
        return f"{valid}, not '{auth.terminator}'. "
    if auth.region != region:  # AWS's words, then the region this gateway is in
        valid = f"Credential should be scoped to a valid region, not '{auth.region}'. "
        return f"{valid}(This gateway's region is {region}.)"
    if "host" not in auth.signed_headers:
        return "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
    if "x-amz-date" not in auth.signed_headers:
        return "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization."
    if not _SIGNATURE.fullmatch(auth.signature):  # SigV4's is 64 hex digits: no key makes this
        return MISMATCH
    return _date_problem(amz_date, auth.day, now)


def _pair(item: str) -> tuple[str, str]:
    name, _, value = item.strip().partition("=")
    return name, value


def _date_problem(amz_date: str | None, day: str, now: datetime.datetime) -> str | None:
    if amz_date is None:
        return "Authorization header requires existence of a 'X-Amz-Date' header."
    try:
        date = datetime.datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=datetime.UTC)
    except ValueError:
        return "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
    if day != amz_date[:8]:
        return (
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date"
            f" from HTTP: '{day}' != '{amz_date[:8]}', from '{amz_date}'."
        )
    stamp, earliest, latest = (t.strftime(_AMZ_DATE) for t in (now, now - WINDOW, now + WINDOW))
    if date < now - WINDOW:
        return f"Signature expired: {amz_date} is now earlier than {earliest} ({stamp} - 5 min.)"
    if date > now + WINDOW:
        return (
            f"Signature not yet current: {amz_date} is still later than {latest} ({stamp} + 5 min.)"
        )
    return None
