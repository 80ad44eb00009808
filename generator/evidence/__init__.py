"""The evidence the GDPR policy pack judges: read from Checkov's blocks, Terraform's plan, the
.tf source behind it, the scan graph and the user data instances boot with.

Imports run one way, each module only importing those above it:

    day         the day a scan judges dates against (the scan's `--today`)
    values      values as a check reads them; Unresolved and what makes it known
    plan        Terraform's plan JSON (`terraform show -json`) and its configuration
    source      the .tf source behind a plan: blocks, expression text, skip comments
    hcl         HCL mode's scan graph (Checkov's nodes of every block)
    scope       one check's view of one block in either mode (plan, source, graph)
    secgroup    security-group rules in one shape (Neutron rule resources, Nova inline rules)
    graph       what spans blocks: a bucket's companions, backup buckets, providers
    userdata    what an instance boots with: declared measures, cloud-config
    sites       where a provider sends data
    s3policy    bucket policies as statements
    inplace     what a plan changes in place that loses data (a shorter expiry, a weaker lock)
    change      what a plan deletes, replaces or loses in place (no Checkov: `apply` uses it)
    check       the base of the pack's checks (imports Checkov)

Nothing here is a check: the checks are generator/policies/, which Checkov loads.
"""
