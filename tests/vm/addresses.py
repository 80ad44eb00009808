"""Fixed addresses on QEMU's user network where the guest finds the services it talks to.

The harness forwards each (address, port) to a service on the host's loopback (QEMU
`guestfwd`), and the image's /etc/hosts gives them the names the generated guest
configuration uses, so the user data stays byte for byte what the generator wrote.
"""

from __future__ import annotations

TANG_NAME = "tang.vm.test"
MIRROR_NAME = "mirror.vm.test"
TANG = "10.0.2.100"
S3 = "10.0.2.101"
ACME = "10.0.2.102"
MIRROR = "10.0.2.103"
COLLECTOR = "10.0.2.104"
# The egress proxy a group on the private network goes out through (its only forward besides
# the deployment's own flows): instance metadata ssb_egress_proxy names it.
PROXY = "10.0.2.105"
PROXY_PORT = 3128
# QEMU's user network: the lab's "private network" (the proxy VM's ssb_egress_clients).
GUEST_NETWORK = "10.0.2.0/24"

HOSTS: dict[str, tuple[str, ...]] = {
    TANG: (TANG_NAME,),
    S3: ("s3.sto1.safedc.net", "s3.sto2.safedc.net", "s3.osl2.safedc.net"),
    ACME: ("acme-v02.api.letsencrypt.org",),
    MIRROR: (MIRROR_NAME,),
}
