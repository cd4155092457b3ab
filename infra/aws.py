"""boto3 clients for the deploy commands, all pointed at one endpoint when asked (moto)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

# Standard retry mode backs off on throttling, which CloudFormation's APIs do under polling.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8})


@dataclass(frozen=True)
class Aws:
    """Where the commands talk to: a region, and optionally one endpoint for every service."""

    region: str | None = None
    endpoint_url: str | None = None

    @property
    def region_name(self) -> str:
        region = boto3.session.Session(region_name=self.region).region_name
        if not region:
            raise RuntimeError(
                "No AWS region: pass --region or set AWS_REGION / a default in ~/.aws/config"
            )
        return str(region)

    @property
    def partition(self) -> str:
        """The region's partition (aws, aws-cn, aws-us-gov...), from botocore's endpoint data."""
        session = boto3.session.Session(region_name=self.region_name)
        return str(session.get_partition_for_region(self.region_name))

    def client(self, service: str) -> Any:
        session = boto3.session.Session(region_name=self.region_name)
        make: Any = session.client  # typed per service name; ours is a plain str
        return make(service, endpoint_url=self.endpoint_url, config=_CONFIG)

    def account_id(self) -> str:
        return str(self.client("sts").get_caller_identity()["Account"])
