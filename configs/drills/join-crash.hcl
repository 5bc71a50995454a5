# A region dies while it copies a table it is joining as a replica. The
# join must resume by itself when the region comes back, and end ACTIVE
# with every item, while the workload keeps writing elsewhere.
name        = "join-crash"
description = "SIGKILL eu-west-1 in the middle of its copy of a 30,000-item table it joins as a replica; restart it"

load {
  keys       = 100
  rate       = 30
  read_ratio = 0.2
}

step "table" {
  table  = "catalog"
  region = "us-east-1"
  items  = 30000
}
step "start_load" {}
step "phase" { name = "join" }
step "add_replica" {
  table  = "catalog"
  region = "eu-west-1"
}
step "await" {
  table  = "catalog"
  region = "eu-west-1"
  items  = 3000
}
step "kill" { region = "eu-west-1" }
step "wait" { for = "3s" }
step "phase" { name = "recovery" }
step "restart" { region = "eu-west-1" }
step "wait" { for = "4s" }
step "stop_load" {}
step "assert" { converged_within = "120s" }
