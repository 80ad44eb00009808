"""CKV_GDPR_21: every bucket has a lifecycle configuration (that it expires objects is CKV_GDPR_10's).

A graph check: an aws_s3_bucket_lifecycle_configuration must configure this bucket
(generator/evidence/graph.py).
"""

from generator.evidence.check import companion_check

check = companion_check("CKV_GDPR_21", "aws_s3_bucket_lifecycle_configuration",
                        "its objects never expire (storage limitation)")
