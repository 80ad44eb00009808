"""CKV_GDPR_19: every bucket has a public access block (its four switches are CKV_GDPR_8's).

A graph check: an aws_s3_bucket_public_access_block must configure this bucket
(generator/evidence/graph.py).
"""

from generator.evidence.check import companion_check

check = companion_check("CKV_GDPR_19", "aws_s3_bucket_public_access_block",
                        "nothing blocks public ACLs and public bucket policies")
