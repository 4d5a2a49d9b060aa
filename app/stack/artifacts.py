"""What the production release step puts in the artifacts bucket, built from the checkout: the
Lambda source zip, the ASL file and the Glue scripts; each uploaded only when its bytes changed."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

from botocore.exceptions import ClientError

from app.stack.template import REPO, TEMPLATE
from gridtape import aws, config

LAMBDA_ZIP_KEY = "lambda/gridtape-lambda.zip"
ASL_KEY = "statemachines/nightly.asl.json"
# Source files the Lambda handlers import (the emulator never runs the zip; production adds
# the third-party dependencies in its release build, see infra/README.md).
LAMBDA_PACKAGES = ("gridtape", "producers", "batch")
LAMBDA_SUFFIXES = (".py", ".sql", ".json", ".yaml")
# Recorded ISO responses replay the APIs offline (tests, demo); a deployed poller never reads them.
LAMBDA_EXCLUDE_DIRS = frozenset({"__pycache__", "recordings"})
# Glue scripts: source file -> key in the artifacts bucket (uploaded when the file exists).
GLUE_SCRIPTS = {
    "streaming/glue_job.py": "glue/streaming_job.py",
    "batch/compaction_job.py": "glue/compaction_job.py",
}


def build_lambda_zip(root: Path = REPO) -> bytes:
    """The handlers' source as a zip with fixed timestamps and order, so the same source gives
    the same bytes (and an unchanged deploy uploads nothing)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for package_name in LAMBDA_PACKAGES:
            base = root / package_name
            for path in sorted(base.rglob("*")):
                if (
                    path.is_file()
                    and path.suffix in LAMBDA_SUFFIXES
                    and not LAMBDA_EXCLUDE_DIRS & set(path.relative_to(root).parts)
                ):
                    info = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
                    info.external_attr = 0o644 << 16
                    zf.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def _put_if_changed(bucket: str, key: str, data: bytes) -> bool:
    s3 = aws.client("s3")
    digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
    try:
        if s3.head_object(Bucket=bucket, Key=key)["ETag"].strip('"') == digest:
            return False
    except ClientError:
        pass
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    return True


def upload_artifacts(names: config.Names, template_path: Path = TEMPLATE) -> list[str]:
    """What the production release step puts in the artifacts bucket: the Lambda zip, the ASL
    file (as packaged) and the Glue scripts that exist. Returns the keys it (re)wrote."""
    root = template_path.parent.parent
    wrote = []
    items = {
        LAMBDA_ZIP_KEY: build_lambda_zip(root),
        ASL_KEY: (root / "statemachines" / "nightly.asl.json").read_bytes(),
    }
    for source, key in GLUE_SCRIPTS.items():
        if (root / source).is_file():
            items[key] = (root / source).read_bytes()
    for key, data in items.items():
        if _put_if_changed(names.artifacts_bucket, key, data):
            wrote.append(key)
    return wrote
