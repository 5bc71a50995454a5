# The default topology (configs/default.hcl) for a container: the same
# three regions, with their DynamoDB endpoints on every interface so that
# ports published from the container reach them (a container's 127.0.0.1
# is its own). Each embedded NATS server stays on the container's loopback:
# only the regions inside use it. compose.yaml runs this file; outside a
# container, use default.hcl, which listens on 127.0.0.1 only.
#
# Data is in the image's volume, /var/lib/globaltables/<region>.

data_dir     = "/var/lib/globaltables"
log_level    = "info"
ttl_interval = "10s"

# The Prometheus of compose.yaml, in its own container, scrapes
# http://globaltables:8000/metrics: a Host the regions do not know, which
# they refuse unless /metrics is open (docs/metrics.md, "Who may scrape").
# The metrics hold no item and no secret; the ports are published on the
# host's loopback only.
open_metrics = true

replication {
  stream_max_age    = "24h"
  stream_max_mb     = 1024
  sync_interval     = "1s"
  tombstone_horizon = "48h"
}

region "us-east-1" {
  listen      = "0.0.0.0:8000"
  nats_listen = "127.0.0.1:9000"
}

region "eu-west-1" {
  listen      = "0.0.0.0:8001"
  nats_listen = "127.0.0.1:9001"
}

region "ap-southeast-1" {
  listen      = "0.0.0.0:8002"
  nats_listen = "127.0.0.1:9002"
}
