# A region dies under load and comes back. Its clients fail over to the
# other regions; afterwards every write it had acknowledged must have
# reached the others, and every region must hold the same data.
name        = "region-outage"
description = "SIGKILL ap-southeast-1 under load, clients fail over, restart it"

load {
  keys       = 200
  rate       = 40
  read_ratio = 0.2
}

step "start_load" {}
step "wait" { for = "4s" }
step "phase" { name = "outage" }
step "kill" { region = "ap-southeast-1" }
step "wait" { for = "6s" }
step "phase" { name = "recovery" }
step "restart" { region = "ap-southeast-1" }
step "wait" { for = "4s" }
step "stop_load" {}
step "assert" { converged_within = "60s" }
