"""`switchboard deploy`: package, upload and create or update the CloudFormation stack."""

from __future__ import annotations

import argparse
import hashlib
import tempfile
from pathlib import Path

from infra import artifacts, packaging, stack
from infra.aws import Aws
from infra.bytecode import IF_FOUND
from infra.cfn_yaml import TEMPLATE, load_template
from infra.commands.options import add_aws, add_build, key_values, reporting_errors
from infra.stack_events import DeployError

HELP = "Deploy Switchboard to AWS: build and upload the package, then create or update the stack."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_aws(parser)
    parser.add_argument("--stage", help="API Gateway stage name (template default: dev)")
    parser.add_argument(
        "--bucket",
        help="S3 bucket of your account for the package, checked but never changed: deploy "
        "warns when it lacks versioning or a policy denying non-TLS requests (default: "
        "switchboard-artifacts-ACCOUNT-REGION, created and kept versioned and TLS only)",
    )
    parser.add_argument(
        "--parameter", action="append", default=[], metavar="KEY=VALUE",
        help="a template parameter, e.g. MemorySize=1024 (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--package", type=Path,
        help="a zip from `switchboard package` (built with the same --arch) instead of building",
    )  # fmt: skip
    add_build(parser)


def run(args: argparse.Namespace) -> int:
    return reporting_errors(lambda: _deploy(args))


def _deploy(args: argparse.Namespace) -> int:
    aws = Aws(args.region, args.endpoint_url)
    parameters = key_values(args.parameter)
    if args.stage is not None:
        parameters["Stage"] = args.stage
    parameters.setdefault("Architecture", args.arch)
    with tempfile.TemporaryDirectory(prefix="switchboard-deploy-") as scratch:
        zip_path, sha256 = _package(args, Path(scratch))
        # Every S3 call below expects this account to own the bucket (ExpectedBucketOwner).
        account = aws.account_id()
        bucket = args.bucket or artifacts.default_bucket(account, aws.region_name)
        s3 = artifacts.owner_checked_s3(aws, account)
        artifacts.ensure_bucket(aws, s3, bucket, account, ours=args.bucket is None)
        key = artifacts.upload(s3, bucket, zip_path, sha256)
    parameters.update(CodeS3Bucket=bucket, CodeS3Key=key)
    template = load_template(TEMPLATE)
    outputs = stack.deploy(
        aws,
        args.stack_name,
        TEMPLATE.read_text(encoding="utf-8"),
        set(template.get("Parameters", {})),
        parameters,
    )
    print(f"Stack {args.stack_name} is deployed.")
    for name, value in sorted(outputs.items()):
        print(f"  {name:<22} {value}")
    return 0


def _package(args: argparse.Namespace, scratch: Path) -> tuple[Path, str]:
    if args.package is not None:
        bytecode_flag = "--no-bytecode" if args.bytecode is None else "--bytecode"
        flags = {bytecode_flag: args.bytecode != IF_FOUND, "--with-boto3": args.with_boto3}
        building = [flag for flag, given in flags.items() if given]
        if building:
            raise DeployError(
                f"--package is deployed as it is: {' and '.join(building)} only apply to a "
                "package that deploy builds (or pass them to `switchboard package`)"
            )
        if not args.package.is_file():
            raise FileNotFoundError(f"--package {args.package}: no such file")
        return args.package, hashlib.sha256(args.package.read_bytes()).hexdigest()
    print(f"Building the Lambda package ({args.arch})")
    built = packaging.build(
        scratch / "switchboard.zip",
        args.arch,
        args.cache_dir,
        args.with_boto3,
        bytecode=args.bytecode,
    )
    # Without bytecode each cold start compiles what it imports: say so, and what would help.
    if built.note:
        print(f"  {built.note}")
    what = f"compiled by {built.bytecode}" if built.bytecode else "sources only"
    print(f"  {built.size / 1e6:.1f} MB ({what}), sha256 {built.sha256}")
    return built.path, built.sha256
