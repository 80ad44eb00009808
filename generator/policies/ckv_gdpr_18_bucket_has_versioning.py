"""CKV_GDPR_18: every bucket keeps previous versions, so an overwrite or a delete can be undone.

A graph check: a resource check on one aws_s3_bucket cannot see that a separate resource is
missing; an aws_s3_bucket_versioning must configure this bucket (generator/evidence/graph.py:
by name on the same provider, or by reference, in both modes). CKV_GDPR_7 judges its status.
"""

from generator.evidence.check import companion_check

check = companion_check("CKV_GDPR_18", "aws_s3_bucket_versioning",
                        "an overwrite or delete cannot be undone (versioning is off)")
