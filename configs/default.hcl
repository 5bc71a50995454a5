# The default topology: three regions on this machine, each with its own
# DynamoDB endpoint, its own data folder under ./data, and its own embedded
# NATS server holding its change stream.
#
#   globaltables up                  # the installed binary
#   go run ./cmd/globaltables up     # or, in a clone of the repository
#
# Any DynamoDB client works against the endpoints with dummy credentials:
#   aws dynamodb list-tables --endpoint-url http://127.0.0.1:8000

data_dir     = "data"
log_level    = "info"
ttl_interval = "10s"

# Tables are local until UpdateTable adds replicas, as in DynamoDB. Set this
# to true to make every new table global across all regions at once.
global_tables = false

# How far ahead of a region's clock a replicated version may be: a change
# further ahead stops its link until the clock at fault is fixed
# (docs/replication.md, "Bounded clock"); no clock may be skewed further.
max_clock_skew = "5m"
# Client connections per region (at most half the open-file limit; more are
# answered 503), and how long an idle one stays open.
max_connections = 4096
idle_timeout    = "2m"

# Tables and indexes change status at once. Set a duration here to have them
# show CREATING, UPDATING and DELETING for that long after each change, as
# DynamoDB does and DynamoDB Local's -delayTransientStatuses imitates, so that
# client code that waits for ACTIVE is exercised.
# transient_status_delay = "2s"

# DynamoDB Streams: how long a shard stays open before a child continues it,
# and how long records are kept (defaults 4h and 24h, as in DynamoDB).
# streams_shard_period = "4h"
# streams_retention    = "24h"

replication {
  stream_max_age    = "24h"  # how long a region's stream keeps changes
  stream_max_mb     = 1024   # and how much of them
  sync_interval     = "1s"   # how often the embedded NATS fsyncs its streams
  tombstone_horizon = "48h"  # how long deletes are remembered
}

region "us-east-1" {
  listen      = "127.0.0.1:8000"
  nats_listen = "127.0.0.1:9000"
}

region "eu-west-1" {
  listen      = "127.0.0.1:8001"
  nats_listen = "127.0.0.1:9001"
}

region "ap-southeast-1" {
  listen      = "127.0.0.1:8002"
  nats_listen = "127.0.0.1:9002"
}
