# Load balancers in front of web servers and a database: plain HTTP and TCP listeners carry
# personal data in the clear; TLS terminated on the balancer, TLS passed through on 443 and an
# HTTP listener that only redirects to HTTPS do not.
provider "openstack" {
  cloud = "safespring-sto1"
}

resource "openstack_lb_loadbalancer_v2" "web" {
  name          = "web"
  vip_subnet_id = "7c1d1fc4-0000-4000-8000-000000000001"
}

resource "openstack_lb_listener_v2" "web_http" {
  name            = "web-http"
  protocol        = "HTTP"
  protocol_port   = 80
  loadbalancer_id = openstack_lb_loadbalancer_v2.web.id
}

resource "openstack_lb_listener_v2" "web_https" {
  name                      = "web-https"
  protocol                  = "TERMINATED_HTTPS"
  protocol_port             = 443
  loadbalancer_id           = openstack_lb_loadbalancer_v2.web.id
  default_tls_container_ref = "https://key-manager.example/v1/containers/0e4c9a6e-0000-4000-8000-000000000001"
}

resource "openstack_lb_listener_v2" "web_redirect" {
  name            = "web-redirect"
  protocol        = "HTTP"
  protocol_port   = 8080
  loadbalancer_id = openstack_lb_loadbalancer_v2.web.id
}

resource "openstack_lb_l7policy_v2" "to_https" {
  name         = "to-https"
  action       = "REDIRECT_TO_URL"
  redirect_url = "https://portal.example.se/"
  position     = 1
  listener_id  = openstack_lb_listener_v2.web_redirect.id
}

resource "openstack_lb_loadbalancer_v2" "db" {
  name          = "db"
  vip_subnet_id = "7c1d1fc4-0000-4000-8000-000000000001"
}

resource "openstack_lb_listener_v2" "db_tcp" {
  name            = "db-tcp"
  protocol        = "TCP"
  protocol_port   = 3306
  loadbalancer_id = openstack_lb_loadbalancer_v2.db.id
}

resource "openstack_lb_listener_v2" "tls_passthrough" {
  name            = "tls-passthrough"
  protocol        = "TCP"
  protocol_port   = 443
  loadbalancer_id = openstack_lb_loadbalancer_v2.db.id
}
