# The link from us-east-1 to eu-west-1 gets slower step by step: watch
# conflicts and stale reads grow from phase to phase.
name        = "slow-link"
description = "raise us-east-1 -> eu-west-1 latency 0, 50, 200, 500 ms"

load {
  keys       = 30
  rate       = 40
  read_ratio = 0.4
}

step "start_load" {}
step "phase" { name = "0ms" }
step "wait" { for = "4s" }
step "phase" { name = "50ms" }
step "link" {
  from    = "us-east-1"
  to      = "eu-west-1"
  latency = "50ms"
}
step "wait" { for = "4s" }
step "phase" { name = "200ms" }
step "link" {
  from    = "us-east-1"
  to      = "eu-west-1"
  latency = "200ms"
}
step "wait" { for = "4s" }
step "phase" { name = "500ms" }
step "link" {
  from    = "us-east-1"
  to      = "eu-west-1"
  latency = "500ms"
}
step "wait" { for = "4s" }
step "stop_load" {}
step "heal" {}
step "assert" { converged_within = "60s" }
