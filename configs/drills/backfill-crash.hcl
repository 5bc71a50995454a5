# A global secondary index is added to a replicated table, and a region
# that applies the replicated index dies during its backfill. The backfill
# must resume when the region comes back and the index end ACTIVE, holding
# every item, in every region.
name        = "backfill-crash"
description = "add an index to a 30,000-item global table, SIGKILL ap-southeast-1 during the backfill, restart it"

load {
  keys = 100
  rate = 30
}

step "table" {
  table  = "catalog"
  region = "us-east-1"
  items  = 30000
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
  region = "eu-west-1"
  items  = 30000
}
step "await" {
  table  = "catalog"
  region = "ap-southeast-1"
  items  = 30000
}
step "start_load" {}
step "phase" { name = "backfill" }
step "add_index" {
  table = "catalog"
  index = "by_group"
}
step "kill" { region = "ap-southeast-1" }
step "wait" { for = "3s" }
step "phase" { name = "recovery" }
step "restart" { region = "ap-southeast-1" }
step "wait" { for = "4s" }
step "stop_load" {}
step "assert" { converged_within = "120s" }
