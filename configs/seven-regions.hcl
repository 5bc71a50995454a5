# Seven regions on this machine, full mesh (issue 12, goal 5): each region
# applies every write of the six others. Ports 8100-8106 (DynamoDB API) and
# 9100-9106 (NATS) and the data folder ./data-seven do not clash with the
# default topology's, so both can run at once.
#
#   globaltables up --config configs/seven-regions.hcl
#   globaltables up --check-config --config configs/seven-regions.hcl
#
# Tables are global across all seven from their creation. On a 2-core
# laptop this topology keeps up with about 1,000 writes/s spread over the
# regions; docs/performance.md ("Goal 5") has what it costs per region.

data_dir      = "data-seven"
log_level     = "info"
global_tables = true

replication {
  stream_max_age    = "24h"
  stream_max_mb     = 256   # seven streams on one disk: a smaller cap each
  sync_interval     = "1s"
  tombstone_horizon = "48h"
}

region "us-east-1" {
  listen      = "127.0.0.1:8100"
  nats_listen = "127.0.0.1:9100"
}

region "eu-west-1" {
  listen      = "127.0.0.1:8101"
  nats_listen = "127.0.0.1:9101"
}

region "ap-southeast-1" {
  listen      = "127.0.0.1:8102"
  nats_listen = "127.0.0.1:9102"
}

region "us-west-2" {
  listen      = "127.0.0.1:8103"
  nats_listen = "127.0.0.1:9103"
}

region "eu-central-1" {
  listen      = "127.0.0.1:8104"
  nats_listen = "127.0.0.1:9104"
}

region "ap-northeast-1" {
  listen      = "127.0.0.1:8105"
  nats_listen = "127.0.0.1:9105"
}

region "sa-east-1" {
  listen      = "127.0.0.1:8106"
  nats_listen = "127.0.0.1:9106"
}
