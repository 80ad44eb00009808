"""CKV_GDPR_20: every bucket has a bucket policy (that it denies plain transport is CKV_GDPR_9's).

A graph check: an aws_s3_bucket_policy must configure this bucket (generator/evidence/graph.py).
"""

from generator.evidence.check import companion_check

check = companion_check("CKV_GDPR_20", "aws_s3_bucket_policy",
                        "no policy denies requests that do not arrive over TLS")
