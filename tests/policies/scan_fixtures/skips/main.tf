# A skip with a reason is reported as skipped; a skip without one is a failure.
resource "openstack_networking_secgroup_v2" "skip_with_reason" {
  # checkov:skip=CKV_GDPR_6:This group only exists to show a skip with a written reason.
  name = "with-reason"
}

resource "openstack_networking_secgroup_v2" "skip_without_reason" {
  # checkov:skip=CKV_GDPR_6
  name = "without-reason"
}
