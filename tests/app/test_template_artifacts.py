"""What the release step uploads for the template's compute: the Lambda zip holds every
handler the template names (and no recorded responses), the Glue scripts are where the jobs
look for them."""

from __future__ import annotations

from app.stack import artifacts
from app.stack import template as tpl
from gridtape import config
from tests.app.template_support import ACCOUNT, resolver, resources, template


def test_lambda_handlers_exist_and_are_in_the_zip() -> None:
    import importlib
    import io
    import zipfile

    zipped = artifacts.build_lambda_zip()
    assert artifacts.build_lambda_zip() == zipped, "the zip must be byte-identical for the same source"
    members = set(zipfile.ZipFile(io.BytesIO(zipped)).namelist())
    for lid, fn in resources("AWS::Lambda::Function").items():
        module, _, attr = fn["Properties"]["Handler"].rpartition(".")
        assert callable(getattr(importlib.import_module(module), attr)), lid
        assert module.replace(".", "/") + ".py" in members, lid
    assert not any("/recordings/" in m for m in members)


def test_glue_scripts_exist_where_the_jobs_expect_them() -> None:
    names = config.Names(env="dev", account=ACCOUNT)
    r = resolver(names)
    uploaded = {f"s3://{names.artifacts_bucket}/{key}" for key in artifacts.GLUE_SCRIPTS.values()}
    for lid in ("StreamingJob", "CompactionJob"):
        assert r.resolve(template()["Resources"][lid]["Properties"]["Command"]["ScriptLocation"]) in uploaded
    for source in artifacts.GLUE_SCRIPTS:
        assert (tpl.REPO / source).is_file(), source
