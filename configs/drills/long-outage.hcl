# A region is away longer than the tombstone horizon while items are
# deleted elsewhere. When it returns, no deleted item may come back, in it
# or anywhere, and no acknowledged write may be lost.
#
# The horizon and the stream's retention are shortened to 4 s so the
# drill runs in seconds; --scale shortens the waits but not these, so keep
# the outage's wait above them.
name        = "long-outage"
description = "stop ap-southeast-1, delete 1,000 of 2,000 items elsewhere, keep it away past the tombstone horizon, restart it"

replication {
  stream_max_age    = "4s"
  tombstone_horizon = "4s"
}

load {
  keys       = 100
  rate       = 30
  read_ratio = 0.2
}

step "table" {
  table  = "catalog"
  region = "us-east-1"
  items  = 2000
}
step "add_replica" {
  table  = "catalog"
  region = "eu-west-1"
}
step "add_replica" {
  table  = "catalog"
  region = "ap-southeast-1"
}
step "await" {
  table  = "catalog"
  region = "ap-southeast-1"
  items  = 2000
}
step "start_load" {}
step "wait" { for = "2s" }
step "phase" { name = "outage" }
step "stop" { region = "ap-southeast-1" }
step "delete_items" {
  table  = "catalog"
  region = "us-east-1"
  items  = 1000
}
step "wait" { for = "15s" }
step "phase" { name = "recovery" }
step "restart" { region = "ap-southeast-1" }
step "wait" { for = "5s" }
step "stop_load" {}
step "assert" { converged_within = "120s" }
